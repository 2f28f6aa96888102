"""The SMTP sending of the outbox (`jobs.send_notification` and the batched `jobs.send_due`).

Our own connection rather than CKAN's mailer: a batch sends many emails over one connection
(one handshake), and the caller controls what follows the server's acceptance of a message,
so the "sent" mark is committed right after the 250 and before QUIT (CKAN's mailer quits
first: one more round trip in the window where a crash repeats an email). The connection and
the message follow CKAN's own `smtp.*` options and headers (From is the site title at
`smtp.mail_from`, Date, X-Mailer, Reply-To), as CKAN's mailer builds them. CKAN's INotifier
plugins are not consulted (the extension's emails are its own outbox).
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


class Unreachable(ConnectionError):
    """The mail server did not take the connection (the outbox row's `last_error` says so in
    the words CKAN's mailer used)."""


def connect(timeout: float) -> smtplib.SMTP:
    """An open, greeted (and if configured, TLS and logged-in) connection to the mail server."""
    host, port = _server()
    try:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    except OSError as exc:
        raise Unreachable(f'SMTP server could not be connected to: "{host}:{port}" {exc}') from exc
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
