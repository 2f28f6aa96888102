"""One SMTP connection for many emails (the batched sender, `jobs.send_due`).

CKAN's mailer opens a connection per email; over one connection a batch costs one handshake.
The connection and the message follow CKAN's own `smtp.*` options and headers (From is the
site title at `smtp.mail_from`, Date, X-Mailer, Reply-To), so a recipient cannot tell the two
senders apart. CKAN's INotifier plugins are not consulted on this path.
"""
from __future__ import annotations

import smtplib
from email import utils
from email.message import EmailMessage
from time import time

import ckan

from ckanext.statrequest import settings


def _server() -> tuple[str, int]:
    host, _sep, port = str(settings.core("smtp.server") or "").rpartition(":")
    if not host:  # "mail.example.org" without a port
        return port, smtplib.SMTP_PORT
    return host, int(port)


def connect(timeout: float) -> smtplib.SMTP:
    """An open, greeted (and if configured, TLS and logged-in) connection to the mail server."""
    host, port = _server()
    connection = smtplib.SMTP(host, port, timeout=timeout)
    try:
        connection.ehlo()
        if settings.core("smtp.starttls"):
            if not connection.has_extn("STARTTLS"):
                raise smtplib.SMTPNotSupportedError("the mail server does not offer STARTTLS")
            connection.starttls()
            connection.ehlo()
        user = settings.core("smtp.user")
        if user:
            connection.login(user, settings.core("smtp.password") or "")
    except Exception:
        connection.close()
        raise
    return connection


def message(name: str, address: str, subject: str, body: str, headers: dict[str, str],
            html: str | None = None) -> EmailMessage:
    """Plain text, and with `html` an HTML alternative (as CKAN's mailer builds it)."""
    msg = EmailMessage()
    msg.set_content(body, cte="base64")
    if html:
        msg.add_alternative(html, subtype="html", cte="base64")
    for key, value in headers.items():
        msg[key] = value
    msg["Subject"] = subject
    msg["From"] = utils.formataddr((settings.core("ckan.site_title") or "",
                                    settings.core("smtp.mail_from")))
    msg["To"] = utils.formataddr((name, address))
    msg["Date"] = utils.formatdate(time())
    if not settings.core("ckan.hide_version"):
        msg["X-Mailer"] = f"CKAN {ckan.__version__}"
    reply_to = settings.core("smtp.reply_to")
    if reply_to:
        msg["Reply-To"] = reply_to
    return msg


def send(connection: smtplib.SMTP, msg: EmailMessage, address: str) -> None:
    connection.sendmail(settings.core("smtp.mail_from"), [address], msg.as_string())
