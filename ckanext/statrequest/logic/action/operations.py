"""Operations: the email outbox, SLA reminders, spam and personal-data purges, and the log of
who opened identity documents (their names: `logic.api.ACTIONS["operations"]`). The
`ckan statrequest ...` commands call these actions."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import delete, select

from ckanext.statrequest import settings
from ckanext.statrequest.lib import attachments, notifications, opd_tasks
from ckanext.statrequest.logic import common
from ckanext.statrequest.logic.dictization import iso, user_display
from ckanext.statrequest.logic.schema import operations as schema
from ckanext.statrequest.model import Attachment, IdentityAccess, Request
from ckanext.statrequest.model import now as now_utc

log = logging.getLogger(__name__)
_ = tk._

PURGED_NAME = "purged"  # name left on an attachment row whose file was purged


def statrequest_notifications_flush(context: dict[str, Any], data_dict: dict[str, Any]
                                    ) -> dict[str, int]:
    """Queue again every email still unsent (mail server down, Redis restarted, worker killed).

    :param min_age_minutes: skip emails queued less than this long ago (default 5): their
        first job is probably still waiting
    :returns: {"enqueued": n, "given_up": emails older than notify.give_up_hours}
    """
    data = common.authorized("statrequest_notifications_flush", context, data_dict,
                             schema.notifications_flush())
    minutes = data.get("min_age_minutes")
    return notifications.flush(dt.timedelta(minutes=5 if minutes is None else int(minutes)))


def statrequest_sla_check(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, int]:
    """Remind and escalate requests that are due soon or overdue; safe to run repeatedly.

    Complaints past their due date and unanswered are escalated once to the superior of the
    position that answers them.

    :returns: {"checked": requests due soon or overdue, "reminders": n, "escalations": n,
        "complaint_escalations": n} (newly queued emails only)
    """
    tk.check_access("statrequest_sla_check", context, data_dict)
    now = now_utc()
    result = notifications.sla_check(now)
    if settings.calendar().is_working_day(settings.calendar().localize(now).date()):
        result.update(opd_tasks.sla_check(now))  # each OPD's own task on routed requests
    return result


def statrequest_digest(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """The officials' morning digest (`notify.officials = digest`; `ckan statrequest digest`
    from cron): one mail to each official or OPD administrator with requests waiting for them
    (their inbox: `statrequest_list` with waiting_for_me, as that user), most urgent first.
    Only on working days of the office calendar, and once per user and day (the outbox key;
    users who have theirs are not asked again), so a second run sends nothing.

    :returns: {"day": ISO date, "skipped": None | "each" (officials get one mail per step) |
        "not_working_day", "officials": users asked, "queued": digests newly queued}
    """
    tk.check_access("statrequest_digest", context, data_dict)
    calendar = settings.calendar()
    day = calendar.localize(now_utc()).date()
    result: dict[str, Any] = {"day": day.isoformat(), "skipped": None, "officials": 0,
                              "queued": 0}
    if not notifications.officials_digested():
        result["skipped"] = "each"
        return result
    if not calendar.is_working_day(day):
        result["skipped"] = "not_working_day"
        return result
    inbox = tk.get_action("statrequest_list")
    done = notifications.digested_on(day)
    messages = []
    for user in notifications.digest_candidates(day):
        if f"user:{user.id}" in done:
            continue
        result["officials"] += 1
        waiting = inbox({"user": user.name}, {"waiting_for_me": True, "limit": 100})
        message = notifications.digest_message(user, waiting["results"], waiting["count"], day)
        if message is not None:
            messages.append(message)
    ids = notifications.save(messages)
    notifications.enqueue_all(ids)
    result["queued"] = len(ids)
    return result


def statrequest_purge_spam(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Delete every request of a user (rows and files): for spam accounts.

    :param user: name or id
    :returns: {"user": name, "deleted": n, "tracking_numbers": [...]}
    """
    data = common.authorized("statrequest_purge_spam", context, data_dict, schema.purge_spam())
    user = model.User.get(data["user"])
    assert user is not None
    requests = model.Session.execute(
        select(Request.id, Request.tracking_number).where(Request.requester_id == user.id)
        .order_by(Request.created_at)).all()
    ids = [r.id for r in requests]
    try:
        file_ids = model.Session.scalars(select(Attachment.file_id).where(
            Attachment.request_id.in_(ids), Attachment.file_id.is_not(None))).all()
        for file_id in file_ids:
            attachments.remove(file_id)
        # events, attachments, links, outbox rows... go with the request (ON DELETE CASCADE)
        model.Session.execute(delete(Request).where(Request.id.in_(ids)))
        model.Session.commit()
    except Exception:
        model.Session.rollback()
        raise
    log.warning("statrequest spam purge of %s: %d requests deleted", user.name, len(ids))
    return {"user": user.name, "deleted": len(ids),
            "tracking_numbers": [r.tracking_number for r in requests]}


def statrequest_purge_personal_data(context: dict[str, Any], data_dict: dict[str, Any]
                                    ) -> dict[str, Any]:
    """Remove the personal data of requests finished longer ago than the retention period
    (UU 27/2022): identity documents (files; the attachment row stays, marked purged),
    identity number, phone and address, and the emails about the request. The rest stays
    for the anonymous statistics.

    :param older_than_days: default `ckanext.statrequest.retention_days`
    :param dry_run: only list what would be purged
    :returns: {"purged": n, "failed": n, "tracking_numbers": [...], "older_than_days": days}
    """
    data = common.authorized("statrequest_purge_personal_data", context, data_dict,
                             schema.purge_personal_data())
    days = int(data["older_than_days"] if data.get("older_than_days") is not None
               else settings.get("retention_days"))
    now = now_utc()
    wf = settings.workflow()
    due = model.Session.execute(
        select(Request.id, Request.tracking_number).where(
            Request.state.in_(sorted(wf.final)), Request.closed_at < now - dt.timedelta(days=days),
            Request.personal_data_purged_at.is_(None)).order_by(Request.closed_at)).all()
    result: dict[str, Any] = {"purged": 0, "failed": 0, "older_than_days": days,
                              "tracking_numbers": [r.tracking_number for r in due]}
    if data.get("dry_run"):
        return result
    for request_id, tracking_number in due:
        try:  # one transaction per request: a failure leaves the others purged
            _purge_request(request_id, now)
            model.Session.commit()
            result["purged"] += 1
        except Exception:
            model.Session.rollback()
            result["failed"] += 1
            log.exception("could not purge the personal data of %s", tracking_number)
    return result


def _purge_request(request_id: str, now: dt.datetime) -> None:
    request = model.Session.get(Request, request_id)
    assert request is not None
    documents = model.Session.scalars(select(Attachment).where(
        Attachment.request_id == request_id,
        Attachment.kind.in_(attachments.PERSONAL_KINDS))).all()
    for row in documents:
        if row.file_id:
            attachments.remove(row.file_id)
        row.file_id = None
        row.name = PURGED_NAME  # a file name may carry the person's name
        row.deleted_at = row.deleted_at or now
    request.identity_number = None
    request.phone = ""
    request.address = ""
    request.personal_data_purged_at = now
    # the emails carry the requester's name and address
    model.Session.execute(delete(notifications.Notification).where(
        notifications.Notification.request_id == request_id))


@tk.side_effect_free
def statrequest_identity_access_list(context: dict[str, Any], data_dict: dict[str, Any]
                                     ) -> list[dict[str, Any]]:
    """Who opened the identity documents of a request or was shown its full identity number
    (`kind`: document | nik), newest first (for the Secretary).

    :param id: the request (id or tracking number)
    """
    data, request = common.target("statrequest_identity_access_list", context, data_dict,
                                  schema.identity_access_list(), common.get_request)
    rows = model.Session.execute(
        select(IdentityAccess, Attachment.kind, model.User.name)
        .outerjoin(Attachment, Attachment.id == IdentityAccess.attachment_id)
        .outerjoin(model.User, model.User.id == IdentityAccess.user_id)
        .where(IdentityAccess.request_id == request.id)
        .order_by(IdentityAccess.accessed_at.desc(), IdentityAccess.id.desc())).all()
    return [{
        "user_id": row.user_id,
        "user_name": name,
        "user_display": user_display(row.user_id),
        "kind": row.kind,
        "attachment_id": row.attachment_id,
        "attachment_kind": kind,
        "accessed_at": iso(row.accessed_at),
    } for row, kind, name in rows]
