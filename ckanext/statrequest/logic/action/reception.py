"""The front desk: requests received by letter, email or in person are registered by the
holder of the workflow's `front_desk_position`, and every request (portal or desk) stands in
one incoming-letter register with a gap-free agenda number (their names:
`logic.api.ACTIONS["reception"]`).

A desk registration is a submission on behalf of a requester who may have no account: like a
guest's, it has no `requester_id` and is followed through the signed guest link the
"received" mail carries.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import Select, func, select

from ckanext.statrequest import settings
from ckanext.statrequest.core.vocabulary import DESK_EVENT, LETTER_CHANNEL
from ckanext.statrequest.core.workflow import OFFICIAL
from ckanext.statrequest.lib import access, attachments, guest, letters, notifications
from ckanext.statrequest.lib.texts import lang
from ckanext.statrequest.logic import common
from ckanext.statrequest.logic import dictization as dz
from ckanext.statrequest.logic.action.request import (
    UPLOAD_FIELDS,
    _event,
    _show,
    checked_uploads,
    new_request,
)
from ckanext.statrequest.logic.auth.reception import desk_refusal
from ckanext.statrequest.logic.schema import reception as schema
from ckanext.statrequest.model import Request
from ckanext.statrequest.model import now as now_utc

_ = tk._

EXPORT_LIMIT = 50_000  # rows of one register export (years of a regency's requests)


def _received_at(day: dt.date, now: dt.datetime) -> dt.datetime:
    """When the SLA starts: now for what came in today; for an earlier day the time of day is
    unknown, so the office's opening that day (the reading most favourable to the requester;
    the calendar moves a weekend or holiday to the next working day)."""
    calendar = settings.calendar()
    if day == calendar.localize(now).date():
        return now
    return dt.datetime.combine(day, calendar.office_start, tzinfo=calendar.tz)


def _register_errors(data: dict[str, Any], data_dict: dict[str, Any], today: dt.date
                     ) -> dict[str, list[str]]:
    """What the schema cannot see alone: documents, one contact, the dates."""
    errors: dict[str, list[str]] = {}
    for required in attachments.REQUIRED_KINDS:
        if data_dict.get(required) in (None, "", tk.missing):
            errors[required] = [_("Please attach the scan of this document.")]
    if not data.get("email") and not data.get("phone"):
        errors["email"] = [_("Give the requester's email address or phone number.")]
    received = data.get("received_on")
    if isinstance(received, dt.datetime):
        limit = settings.reception_max_backdate_days()
        if received.date() > today:
            errors["received_on"] = [_("The date received cannot be in the future.")]
        elif received.date() < today - dt.timedelta(days=limit):
            errors["received_on"] = [_(
                "The date received may be at most %(days)s days ago.") % {"days": limit}]
        letter_date = data.get("sender_letter_date")
        if isinstance(letter_date, dt.datetime) and letter_date.date() > received.date():
            errors["sender_letter_date"] = [_("The letter cannot be dated after it was received.")]
    return errors


def statrequest_register(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Register at the front desk a request that came by letter, email or in person.

    Only a holder of the workflow's front-desk position; refused when the workflow has none.

    :param the requester's and the request's fields of `statrequest_create` (email or phone:
        at least one), without consent (given on the paper form)
    :param channel: surat | email | langsung | lainnya
    :param received_on: the day the letter, email or visit was received (YYYY-MM-DD; today or
        up to `reception.max_backdate_days` back)
    :param sender_letter_number, sender_letter_date: the sender's letter (channel `surat`)
    :param identity_document, request_letter: scans (required); data_form: scan (optional)
    :returns: the request, with `guest_link` (for a requester without an account)
    """
    tk.check_access("statrequest_register", context, data_dict)
    actor = access.context_actor(context)
    wf, calendar = settings.workflow(), settings.calendar()
    refused = desk_refusal(actor, wf)
    if refused:  # asked again: an internal call (ignore_auth) skips the auth function
        raise tk.NotAuthorized(refused)
    data, errors = tk.navl_validate(data_dict, schema.register(), context)
    now = now_utc()
    errors.update(_register_errors(data, data_dict, calendar.localize(now).date()))
    prepared, file_errors = checked_uploads(data_dict, UPLOAD_FIELDS)  # files too, in one pass
    errors.update(file_errors)
    if errors:
        raise tk.ValidationError(errors)
    letter = data["channel"] == LETTER_CHANNEL
    received_on = data["received_on"].date()
    sender_date = data.get("sender_letter_date")

    written = attachments.Written()
    try:
        request, stored = new_request(
            data, prepared, written, actor, now, requester_id=None,
            received_at=_received_at(received_on, now), channel=data["channel"],
            received_by=actor.user_id,
            sender_letter_number=(data.get("sender_letter_number") or None) if letter else None,
            sender_letter_date=sender_date.date() if letter and sender_date else None)
        event = _event(request, actor, str(wf.front_desk_position), DESK_EVENT, None,
                       wf.initial, "public", "", 1,
                       {"files": [a.id for a in stored], "channel": data["channel"],
                        "agenda_number": request.agenda_number})
        outbox = notifications.stage_transition(request, event)  # the "received" mail
        model.Session.commit()
    except Exception:
        model.Session.rollback()
        written.discard()
        raise
    letters.after_commit(request.id, DESK_EVENT, outbox)
    result = _show(request, actor)
    result["guest_link"] = guest.link(request.id)
    return result


# --- the register -------------------------------------------------------------------------

def _register_query(data: dict[str, Any]) -> Select[Any]:
    calendar = settings.calendar()
    stmt = select(Request)
    if data.get("received_from"):
        start = data["received_from"].date()
        stmt = stmt.where(Request.received_at >= dt.datetime.combine(
            start, dt.time(0), tzinfo=calendar.tz))
    if data.get("received_to"):
        end = data["received_to"].date() + dt.timedelta(days=1)
        stmt = stmt.where(Request.received_at < dt.datetime.combine(
            end, dt.time(0), tzinfo=calendar.tz))
    if data.get("channel"):
        stmt = stmt.where(Request.channel == data["channel"])
    if data.get("state"):
        stmt = stmt.where(Request.state == data["state"])
    return stmt


def _row(request: Request, names: dict[str, str]) -> dict[str, Any]:
    wf = settings.workflow()
    return {
        "id": request.id,
        "agenda_number": request.agenda_number,
        "tracking_number": request.tracking_number,
        "received_at": dz.iso(request.received_at),
        "channel": request.channel,
        "received_by": names.get(request.received_by or ""),
        "sender_letter_number": request.sender_letter_number,
        "sender_letter_date": dz.iso(request.sender_letter_date),
        "requester_name": request.requester_name,
        "institution": request.institution,
        "category": request.category,
        "title": request.title,
        "state": request.state,
        # the register is the officials' book: their words
        "state_label": wf.state_label(request.state, OFFICIAL, lang()),
    }


def _rows(stmt: Select[Any]) -> list[dict[str, Any]]:
    requests = model.Session.scalars(stmt).all()
    names = dz.user_names({r.received_by for r in requests if r.received_by})
    return [_row(r, names) for r in requests]


# register order: by the number in the book (year, then sequence)
_ORDER = (func.split_part(Request.agenda_number, "/", 3), func.length(Request.agenda_number),
          Request.agenda_number, Request.created_at)


@tk.side_effect_free
def statrequest_register_list(context: dict[str, Any], data_dict: dict[str, Any]
                              ) -> dict[str, Any]:
    """The incoming-letter register: every request, portal and desk, in agenda order.

    :param received_from, received_to: ISO dates (the day received, office time zone)
    :param channel: portal | surat | email | langsung | lainnya; :param state
    :param limit (max 1000), offset
    :returns: {"count": total, "results": [...]}
    """
    data = common.authorized("statrequest_register_list", context, data_dict,
                             schema.register_list())
    stmt = _register_query(data)
    count = model.Session.scalar(select(func.count()).select_from(stmt.subquery()))
    limit = min(int(data.get("limit") or 50), 1000)
    offset = int(data.get("offset") or 0)
    results = _rows(stmt.order_by(*_ORDER, Request.id).limit(limit).offset(offset))
    return {"count": count, "results": results, "limit": limit, "offset": offset}


EXPORT_COLUMNS = ("agenda_number", "tracking_number", "received_at", "channel", "received_by",
                  "sender_letter_number", "sender_letter_date", "requester_name", "institution",
                  "category", "title", "state", "state_label")


@tk.side_effect_free
def statrequest_register_export(context: dict[str, Any], data_dict: dict[str, Any]
                                ) -> dict[str, Any]:
    """The register (same filters as `statrequest_register_list`, without paging) as table
    rows for a CSV file: {"columns", "rows", "filename"}."""
    data = common.authorized("statrequest_register_export", context, data_dict,
                             schema.register_export())
    rows = _rows(_register_query(data).order_by(*_ORDER, Request.id).limit(EXPORT_LIMIT))
    today = settings.calendar().localize(now_utc()).date()
    return {
        "columns": list(EXPORT_COLUMNS),
        "rows": [[row[c] for c in EXPORT_COLUMNS] for row in rows],
        "filename": f"buku-agenda-{today.isoformat()}.csv",
    }
