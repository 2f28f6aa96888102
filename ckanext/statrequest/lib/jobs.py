"""Background jobs (RQ on Redis, through CKAN's job queue).

`send_notification` delivers one outbox row. Exactly once: the row is locked (SELECT ... FOR
UPDATE) while the mail server is spoken to and marked sent in the same transaction, so a second
job for the same row (a retry, a flush, a duplicate) waits for the lock and then finds it sent.
SMTP has no exactly-once: the one window left is a crash after the message's end was sent
and before the commit (the server may accept a message whose sender already died: it finishes
before it notices the connection gone). It is kept as short as we can make it: the message is
built and the "sent" mark written (uncommitted, under the row's lock) *before* the data goes,
so after the server's 250 only the COMMIT is left (no QUIT, no logging, no rendering: 0.15 ms
median, bench/README.md); the connection is closed after the commit. What cannot go is the
server's own time to accept. A copy sent after such a crash carries the same Message-ID
header, by which receiving mail systems drop it.

With `notify.batch_size` > 0 one job (`send_due`) sends the due emails over one SMTP connection
instead: each email is claimed with FOR UPDATE SKIP LOCKED and marked sent in its own short
transaction, so the same guarantee holds per email, and the two kinds of job can run side by
side. CKAN's worker forks and reconnects to the database for every job; a batch pays that once
for many emails (bench/mail.py measures both).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
from typing import Any
from urllib.parse import urlparse

import ckan.model as model
import ckantoolkit as tk
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import or_, select, update

from ckanext.statrequest import settings
from ckanext.statrequest.lib.mailhtml import to_html
from ckanext.statrequest.model import now as utc_now

log = logging.getLogger(__name__)

# The SMTP connection's timeout (lib/smtp; CKAN's own mailer has none): a mail server that
# accepts the connection and then hangs would hold the job until RQ kills it.
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


def _headers(row: Any) -> dict[str, str]:
    host = urlparse(settings.site_url()).hostname or "localhost"
    return {
        "Message-ID": f"<statrequest-{row.id}@{host}>",  # stable across retries
        "Content-Language": row.language,
        "Auto-Submitted": "auto-generated",
        "X-Statrequest-Kind": row.kind,  # lets officials filter reminders and escalations
    }


def send_notification(notification_id: int) -> str:
    """Send one outbox email unless it was sent already; raise on failure so RQ retries."""
    from ckanext.statrequest.lib import smtp
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
    connection = None
    try:
        msg = smtp.message(row.name, row.email, row.subject, row.body, _headers(row),
                           html=to_html(row.body, row.language, row.subject))
        connection = smtp.connect(SMTP_TIMEOUT)
        _mark_sent(row)  # written, not committed: after the 250 only the COMMIT is left
        smtp.send(connection, msg, row.email)
    except Exception as exc:
        session.rollback()  # the mark too
        _record_failure(notification_id, f"{type(exc).__name__}: {exc}")
        raise
    else:
        session.commit()  # at once: the server has the message
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.quit()
    return "sent"


def _mark_sent(row: Any) -> None:
    """Write the "sent" mark under the row's lock without committing it (the caller commits
    right after the server's 250, or rolls back): the UPDATE's round trip is made before the
    message goes, not in the window between the server's acceptance and the commit."""
    now = utc_now()
    row.sent_at, row.last_attempt_at, row.last_error = now, now, None
    row.attempts += 1
    model.Session.flush()


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


# --- batched sending (notify.batch_size > 0) --------------------------------------------------

def batch_size() -> int:
    """Emails one batch job sends at most; 0: one job per email."""
    return max(int(settings.get("notify.batch_size") or 0), 0)


def _pointer(queue_name: str) -> str:
    return f"statrequest:email-batch:{queue_name}"


def enqueue_batch() -> None:
    """Make sure a batch job starts after this point. Called after the commit of new rows: a
    batch job still waiting in the queue will see them when it starts, so none is added then;
    otherwise (none waiting, or it has already started) a new one is queued."""
    keep = int(settings.get("notify.give_up_hours")) * 3600
    queue = settings.get("notify.queue") or "default"
    rq_queue = tk.get_job_queue(queue)
    connection = rq_queue.connection
    waiting = connection.get(_pointer(rq_queue.name))
    if waiting:
        try:
            job = Job.fetch(waiting.decode(), connection=connection)
            if job.origin == rq_queue.name and job.get_status() in ("queued", "deferred"):
                return
        except NoSuchJobError:
            pass
    job = tk.enqueue_job(send_due, [], title="statrequest emails", queue=queue,
                         rq_kwargs={"retry": _retry(), "ttl": keep, "failure_ttl": keep})
    connection.set(_pointer(rq_queue.name), job.id, ex=keep)


def _claim_next(skip: list[int], retry_after: dt.datetime) -> Any:
    """The oldest unsent email no other sender holds, locked until its own commit. A failed
    one waits the first retry interval (its next try comes with a later batch or the flush)."""
    from ckanext.statrequest.model import Notification

    return model.Session.scalars(
        select(Notification).where(
            Notification.sent_at.is_(None), Notification.id.not_in(skip),
            or_(Notification.last_attempt_at.is_(None),
                Notification.last_attempt_at <= retry_after))
        .order_by(Notification.id).limit(1).with_for_update(skip_locked=True)).first()


def batch_threads() -> int:
    """Senders inside one batch job (notify.batch_threads), each with its own database session
    and SMTP connection."""
    return max(int(settings.get("notify.batch_threads") or 1), 1)


def send_due() -> str:
    """Background job: send up to `batch_size` unsent emails over one SMTP connection (per
    sender thread, `batch_threads`).

    Each email is its own short transaction: claimed (FOR UPDATE SKIP LOCKED, so parallel
    batches, sender threads and one-email jobs never take the same row), sent, marked sent,
    committed (the mark written before the send, so after the server's 250 only the COMMIT
    is left). A crash can therefore repeat only the emails in flight (same Message-ID). A
    refusal of one message is recorded and the batch goes on; a lost connection ends that
    sender with an error so RQ retries the batch with back-off.
    """
    import math
    from concurrent.futures import ThreadPoolExecutor

    limit = batch_size() or 1
    if not settings.core("smtp.server"):
        log.warning("smtp.server is not set; emails stay in the outbox")
        return "no mail server configured"
    intervals = [int(s) for s in tk.aslist(settings.get("notify.retry_intervals"))]
    retry_after = utc_now() - dt.timedelta(seconds=intervals[0] if intervals else 0)
    threads = min(batch_threads(), limit)
    if threads == 1:
        sent, tried, full = _send_some(limit, retry_after)
    else:
        # the wait for the mail server and the database dominates one sender's time; parallel
        # senders overlap it (model.Session is per thread, so each has its own connection)
        share = math.ceil(limit / threads)

        def sender(_n: int) -> tuple[int, int, bool] | BaseException:
            try:
                return _send_some(share, retry_after)
            except Exception as exc:  # noqa: BLE001 - raised below, once every sender ended
                return exc
            finally:
                model.Session.remove()

        with ThreadPoolExecutor(threads, thread_name_prefix="statrequest-mail") as pool:
            outcomes = list(pool.map(sender, range(threads)))
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        done = [o for o in outcomes if not isinstance(o, BaseException)]
        sent, tried = sum(o[0] for o in done), sum(o[1] for o in done)
        full = any(o[2] for o in done)
        if errors:
            log.warning("%s of %s email senders failed; %s sent", len(errors), threads, sent)
            raise errors[0]
    if full:  # more may be waiting
        enqueue_batch()
    return f"{sent} sent, {tried - sent} failed"


def _send_some(limit: int, retry_after: dt.datetime) -> tuple[int, int, bool]:
    """One sender: up to `limit` emails over one SMTP connection; (sent, tried, limit hit)."""
    from ckanext.statrequest.lib import smtp

    session = model.Session
    tried: list[int] = []
    sent = 0
    connection = None
    try:
        while len(tried) < limit:
            row = _claim_next(tried, retry_after)
            if row is None:
                session.rollback()
                break
            tried.append(row.id)
            marked = False
            try:
                msg = smtp.message(row.name, row.email, row.subject, row.body, _headers(row),
                                   html=to_html(row.body, row.language, row.subject))
                if connection is None:
                    connection = smtp.connect(SMTP_TIMEOUT)
                _mark_sent(row)  # after the 250 only the COMMIT below is left
                marked = True
                smtp.send(connection, msg, row.email)
            except Exception as exc:
                # recorded before the row's lock goes, so no other batch retries it at once
                now = utc_now()
                if not marked:
                    row.attempts += 1
                row.sent_at = None  # the mark written before the send, undone
                row.last_attempt_at, row.last_error = now, f"{type(exc).__name__}: {exc}"[:1000]
                session.commit()
                # a refusal of this one message leaves the connection good for the next,
                # unless there is none or the server said it is closing it (421)
                refused = isinstance(exc, (smtplib.SMTPResponseException,
                                           smtplib.SMTPRecipientsRefused))
                if connection is None or not refused or getattr(exc, "smtp_code", 0) == 421:
                    raise
                continue
            session.commit()  # at once: the server has the message
            sent += 1
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.quit()
    return sent, len(tried), len(tried) >= limit
