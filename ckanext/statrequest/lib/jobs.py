"""Background jobs (RQ on Redis, through CKAN's job queue).

`send_notification` delivers one outbox row. Exactly once: the row is locked (SELECT ... FOR
UPDATE) while the mail server is spoken to and marked sent in the same transaction, so a second
job for the same row (a retry, a flush, a duplicate) waits for the lock and then finds it sent.
The one window left is a crash between the mail server accepting the message and the commit;
the stable Message-ID header lets mail systems drop such a duplicate.
"""
from __future__ import annotations

import logging
import socket
from urllib.parse import urlparse

import ckan.model as model
import ckantoolkit as tk
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import select, update

from ckanext.statrequest import settings
from ckanext.statrequest.model import now as utc_now

log = logging.getLogger(__name__)

# CKAN's mailer opens its SMTP connection without a timeout; a mail server that accepts the
# connection and then hangs would hold the job until RQ kills it.
SMTP_TIMEOUT = 60


def _retry() -> Retry | None:
    intervals = [int(s) for s in tk.aslist(settings.get("notify.retry_intervals"))]
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def enqueue(notification_id: int) -> None:
    """One job per email, with back-off on failure; a job waiting longer than the give-up
    period is dropped by RQ (notifications-flush re-creates what is still worth sending)."""
    keep = int(settings.get("notify.give_up_hours")) * 3600
    queue = settings.get("notify.queue") or "default"
    # one job id per email: a flush does not queue a second job while the first still waits
    job_id = f"statrequest-email-{notification_id}"
    rq_queue = tk.get_job_queue(queue)
    try:
        job = Job.fetch(job_id, connection=rq_queue.connection)
        # a job left waiting in another queue (the setting changed, nobody works it any
        # more) must not keep this email from being sent
        waiting = job.get_status() if job.origin == rq_queue.name else None
    except NoSuchJobError:
        waiting = None
    if waiting in ("queued", "scheduled", "started", "deferred"):
        return
    tk.enqueue_job(
        send_notification, [notification_id], title=f"statrequest email {notification_id}",
        queue=queue,
        rq_kwargs={"retry": _retry(), "ttl": keep, "failure_ttl": keep, "job_id": job_id},
    )


def send_notification(notification_id: int) -> str:
    """Send one outbox email unless it was sent already; raise on failure so RQ retries."""
    from ckan.lib import mailer

    from ckanext.statrequest.model import Notification

    session = model.Session
    row = session.scalars(
        select(Notification).where(Notification.id == notification_id,
                                   Notification.sent_at.is_(None))
        .with_for_update()).first()
    if row is None:
        session.rollback()
        return "already sent or removed"
    if not settings.core("smtp.server"):
        session.rollback()  # kept unsent: notifications-flush sends it once mail is configured
        log.warning("smtp.server is not set; email %s stays in the outbox", notification_id)
        return "no mail server configured"
    host = urlparse(settings.site_url()).hostname or "localhost"
    headers = {
        "Message-ID": f"<statrequest-{row.id}@{host}>",  # stable across retries
        "Content-Language": row.language,
        "Auto-Submitted": "auto-generated",
        "X-Statrequest-Kind": row.kind,  # lets officials filter reminders and escalations
    }
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(SMTP_TIMEOUT)
    try:
        mailer.mail_recipient(row.name, row.email, row.subject, row.body, headers=headers)
    except Exception as exc:
        session.rollback()
        _record_failure(notification_id, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        socket.setdefaulttimeout(previous_timeout)
    now = utc_now()
    row.sent_at, row.last_attempt_at, row.last_error = now, now, None
    row.attempts += 1
    session.commit()
    return "sent"


def _record_failure(notification_id: int, error: str) -> None:
    from ckanext.statrequest.model import Notification

    try:
        model.Session.execute(
            update(Notification).where(Notification.id == notification_id).values(
                attempts=Notification.attempts + 1, last_error=error[:1000],
                last_attempt_at=utc_now()))
        model.Session.commit()
    except Exception:  # the job's own failure is what matters; RQ logs and retries it
        model.Session.rollback()
        log.exception("could not record the failure of email %s", notification_id)
