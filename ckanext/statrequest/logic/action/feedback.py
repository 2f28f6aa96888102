"""The satisfaction survey (SKM) and complaints (pengaduan).

Survey: once per finished request, by its requester; nine scores of 1–4 (PermenPAN-RB
14/2017) and an optional comment. Complaints: filed by a logged-in user, about one of their
own requests or about the service in general; numbered ADU-<year>-<seq>, they go
diterima → ditanggapi → selesai as the Secretary (or a sysadmin) answers and closes them.
Complaints need an account (no anonymous ones): the answer is read on the complaint page and
the account is how the office reaches the complainant; anonymous reports go to SP4N-LAPOR!.
Their names: `logic.api.ACTIONS["feedback"]`; who may answer is `logic.auth.feedback`'s rule.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ckanext.statrequest import settings
from ckanext.statrequest.core.numbering import format_tracking_number
from ckanext.statrequest.core.vocabulary import COMPLAINT_CHANNELS, COMPLAINT_ONLINE
from ckanext.statrequest.lib import access, notifications, records, stats
from ckanext.statrequest.logic import common
from ckanext.statrequest.logic import dictization as dz
from ckanext.statrequest.logic.auth.feedback import (
    front_desk_refusal,
    is_official,
    is_requester,
    may_respond,
)
from ckanext.statrequest.logic.schema import feedback as schema
from ckanext.statrequest.model import Request
from ckanext.statrequest.model import now as now_utc
from ckanext.statrequest.model.feedback import ELEMENTS, Complaint, Survey

log = logging.getLogger(__name__)
_ = tk._

COMPLAINT_PREFIX = "ADU"


def _completed(request: Request) -> bool:
    rules = stats.rules_for(settings.workflow(), settings.sla_days())
    return request.state in rules.completed


# --- survey -------------------------------------------------------------------------------

def _survey_dict(request: Request, survey: Survey | None, actor: access.Actor
                 ) -> dict[str, Any]:
    data: dict[str, Any] = {
        "request_id": request.id,
        "tracking_number": request.tracking_number,
        "completed": _completed(request),
        "submitted": survey is not None,
        "may_submit": survey is None and is_requester(actor, request) and _completed(request),
    }
    if survey is not None:
        data.update(scores={u: getattr(survey, u) for u in ELEMENTS}, comment=survey.comment,
                    created_at=dz.iso(survey.created_at))
    return data


def _survey_of(request_id: str) -> Survey | None:
    return model.Session.scalars(select(Survey).where(Survey.request_id == request_id)).first()


def statrequest_survey_submit(context: dict[str, Any], data_dict: dict[str, Any]
                              ) -> dict[str, Any]:
    """The requester rates the service of a finished request, once.

    :param id: the request (id or tracking number)
    :param u1..u9: scores 1–4 of the nine SKM elements; :param comment: optional
    """
    data, request = common.target("statrequest_survey_submit", context, data_dict,
                                  schema.survey_submit(), common.get_request)
    actor = access.context_actor(context)
    if not is_requester(actor, request):  # sysadmins pass auth functions; not this
        raise tk.NotAuthorized(_("Only the requester may fill the survey of a request."))
    if not _completed(request):
        raise tk.ValidationError({"survey": [_(
            "The survey opens when the request is completed.")]})
    if _survey_of(request.id) is not None:
        raise tk.ValidationError({"survey": [_(
            "You have already filled the survey for this request. Thank you!")]})
    survey = Survey(request_id=request.id, respondent_id=actor.user_id,
                    comment=data.get("comment") or "", created_at=now_utc(),
                    **{u: data[u] for u in ELEMENTS})
    model.Session.add(survey)
    try:
        model.Session.commit()
    except IntegrityError:  # a second submission that raced the first (unique request_id)
        model.Session.rollback()
        raise tk.ValidationError({"survey": [_(
            "You have already filled the survey for this request. Thank you!")]}) from None
    return _survey_dict(request, survey, actor)


@tk.side_effect_free
def statrequest_survey_show(context: dict[str, Any], data_dict: dict[str, Any]
                            ) -> dict[str, Any]:
    """Whether the request's survey was filled (and its answers), and whether the caller may
    fill it now. For the requester and Diskominfo officials."""
    data, request = common.target("statrequest_survey_show", context, data_dict,
                                  schema.survey_show(), common.get_request)
    return _survey_dict(request, _survey_of(request.id), access.context_actor(context))


# --- complaints ---------------------------------------------------------------------------

def _get_complaint(ref: str) -> Complaint:
    """By number (ADU-...) or id; an unknown one is not found."""
    ref = ref.strip()
    if ref.upper().startswith(COMPLAINT_PREFIX + "-"):
        complaint = model.Session.scalars(
            select(Complaint).where(Complaint.number == ref.upper())).first()
    else:
        complaint = records.row(Complaint, ref)
    if complaint is None:
        raise tk.ObjectNotFound(_("Complaint not found"))
    return complaint


def _state_label(state: str) -> str:
    return {"diterima": _("Received"), "ditanggapi": _("Answered"),
            "selesai": _("Closed")}.get(state, state)


def _due(received_at: dt.datetime) -> dt.datetime:
    """The answer's deadline: end of office hours of the configured working day after the
    day of receipt."""
    return settings.calendar().add_working_days(received_at,
                                                settings.complaint_response_days())


def _overdue(c: Complaint, now: dt.datetime) -> bool:
    return c.state == "diterima" and c.due_at is not None and c.due_at < now


def complaint_dict(c: Complaint, actor: access.Actor) -> dict[str, Any]:
    official = is_official(actor)
    request = model.Session.get(Request, c.request_id) if c.request_id else None
    now = now_utc()
    data: dict[str, Any] = {
        "id": c.id,
        "number": c.number,
        "request_id": c.request_id,
        "tracking_number": request.tracking_number if request else None,
        "subject": c.subject,
        "body": c.body,
        "state": c.state,
        "state_label": _state_label(c.state),
        "response": c.response,
        "responded_at": dz.iso(c.responded_at),
        "closed_at": dz.iso(c.closed_at),
        "created_at": dz.iso(c.created_at),
        "updated_at": dz.iso(c.updated_at),
        "history": [
            {"at": h["at"], "state": h["state"], "state_label": _state_label(h["state"]),
             "response": h.get("response", ""),
             **({"by": dz.user_display(h.get("by"))} if official else {})}
            for h in c.history or []
        ],
        "may_respond": may_respond(actor) and c.state != "selesai",
        "channel": c.channel,
        "channel_label": _(COMPLAINT_CHANNELS.get(c.channel, c.channel)),
        "received_at": dz.iso(c.received_at or c.created_at),
        "due_at": dz.iso(c.due_at),
        "overdue": _overdue(c, now),
        # answered after the due date (None: not answered, or no due date)
        "answered_late": (c.responded_at > c.due_at)
        if c.responded_at is not None and c.due_at is not None else None,
        "escalated": c.escalated_at is not None,
        "escalated_at": dz.iso(c.escalated_at),
    }
    if official:  # officials need to know and reach the complainant
        user = model.User.get(c.complainant_id) if c.complainant_id else None
        data.update(complainant=dz.user_display(c.complainant_id) or c.complainant_name,
                    complainant_email=user.email if user else (c.complainant_email or None),
                    complainant_phone=c.complainant_phone or None,
                    received_by=dz.user_display(c.received_by),
                    responded_by=dz.user_display(c.responded_by))
    return data


def _too_many(actor: access.Actor) -> bool:
    limit = int(settings.get("complaint.per_day"))
    if limit <= 0 or actor.is_staff:
        return False
    since = now_utc() - dt.timedelta(days=1)
    count = model.Session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.complainant_id == actor.user_id, Complaint.created_at >= since))
    return count >= limit


def statrequest_complaint_create(context: dict[str, Any], data_dict: dict[str, Any]
                                 ) -> dict[str, Any]:
    """File a complaint, about one of the caller's own requests or about the service.

    :param subject, body: plain text; :param request: optional id or tracking number
    :returns: the complaint, with its number (ADU-<year>-<seq>)
    """
    data = common.authorized("statrequest_complaint_create", context, data_dict, schema.complaint_create())
    actor = access.context_actor(context)
    request_id = None
    if data.get("request"):
        request = records.find_request(data["request"])
        # unknown and someone else's give the same answer: the form reveals nothing
        if request is None or request.requester_id != actor.user_id:
            raise tk.ValidationError({"request": [_("Choose one of your own requests.")]})
        request_id = request.id
    if _too_many(actor):
        raise tk.ValidationError({"submission": [_(
            "You have filed many complaints today. Please wait for our answer or try again "
            "tomorrow.")]})
    complaint = _file(actor, request_id=request_id, complainant_id=actor.user_id,
                      subject=data["subject"], body=data["body"], channel=COMPLAINT_ONLINE)
    log.info("statrequest complaint %s filed by %s", complaint.number, actor.name)
    return complaint_dict(complaint, actor)


def _file(actor: access.Actor, received_at: dt.datetime | None = None, **fields: Any
          ) -> Complaint:
    """Number, date and store a complaint with its due date; its receipt's mails are
    committed with it and sent after the commit."""
    now = now_utc()
    received_at = received_at or now
    try:
        year = settings.calendar().localize(received_at).year
        number = format_tracking_number(year, records.next_number("complaint", year),
                                        prefix=COMPLAINT_PREFIX)
        complaint = Complaint(
            number=number, state="diterima", received_at=received_at,
            due_at=_due(received_at),
            history=[{"at": dz.iso(now), "by": actor.user_id, "state": "diterima"}],
            created_at=now, updated_at=now, **fields)
        model.Session.add(complaint)
        outbox = notifications.stage_complaint_received(complaint)
        model.Session.commit()
    except Exception:
        model.Session.rollback()
        raise
    notifications.enqueue_all(outbox)
    return complaint


def _received_at(value: dt.datetime, now: dt.datetime) -> dt.datetime:
    """The moment a counter complaint arrived, from the date (and time) the desk typed in the
    office's time zone: today's date alone means now; a date or time ahead of now is
    refused."""
    calendar = settings.calendar()
    today = calendar.localize(now).date()
    if value.time() == dt.time(0) and value.date() == today:
        return now
    received = value.replace(tzinfo=calendar.tz)
    if received > now:
        raise tk.ValidationError({"received_at": [_(
            "The date received cannot be in the future.")]})
    return received


def statrequest_complaint_record(context: dict[str, Any], data_dict: dict[str, Any]
                                 ) -> dict[str, Any]:
    """The front desk records a complaint received in person, by letter, email or phone, for
    a complainant who may have no account.

    :param channel: langsung|surat|email|telepon
    :param complainant_name; :param complainant_email, complainant_phone: at least one
    :param request: optional tracking number (or id) of the request it is about
    :param subject, body: plain text; :param received_at: date (YYYY-MM-DD, or with a time),
        not in the future
    :returns: the complaint, with its number and due date
    """
    data = common.authorized("statrequest_complaint_record", context, data_dict,
                             schema.complaint_record())
    actor = access.context_actor(context)
    refusal = front_desk_refusal(actor)  # sysadmins pass auth functions; not a missing desk
    if refusal:
        raise tk.NotAuthorized(refusal)
    errors: dict[str, list[str]] = {}
    if not data.get("complainant_email") and not data.get("complainant_phone"):
        message = _("Give an email address or a phone number to reach the complainant.")
        errors = {"complainant_email": [message], "complainant_phone": [message]}
    request_id = None
    if data.get("request"):
        request = records.find_request(data["request"])
        if request is None:
            errors["request"] = [_("No request has this number.")]
        else:
            request_id = request.id
    now = received_at = now_utc()
    try:
        received_at = _received_at(data["received_at"], now)
    except tk.ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise tk.ValidationError(errors)
    complaint = _file(
        actor, received_at=received_at, request_id=request_id, complainant_id=None,
        complainant_name=data["complainant_name"],
        complainant_email=data.get("complainant_email") or "",
        complainant_phone=data.get("complainant_phone") or "", channel=data["channel"],
        received_by=actor.user_id, subject=data["subject"], body=data["body"])
    log.info("statrequest complaint %s recorded at the counter by %s", complaint.number,
             actor.name)
    return complaint_dict(complaint, actor)


@tk.side_effect_free
def statrequest_complaint_show(context: dict[str, Any], data_dict: dict[str, Any]
                               ) -> dict[str, Any]:
    """A complaint by number or id: for its complainant and Diskominfo officials."""
    data, complaint = common.target("statrequest_complaint_show", context, data_dict,
                                    schema.complaint_show(), _get_complaint)
    return complaint_dict(complaint, access.context_actor(context))


@tk.side_effect_free
def statrequest_complaint_list(context: dict[str, Any], data_dict: dict[str, Any]
                               ) -> dict[str, Any]:
    """Officials: every complaint (or `mine`); others: their own. Newest first.

    :param state: diterima|ditanggapi|selesai; :param mine; :param limit (max 100), offset
    """
    data = common.authorized("statrequest_complaint_list", context, data_dict, schema.complaint_list())
    actor = access.context_actor(context)
    where = []
    if data.get("mine") or not is_official(actor):
        where.append(Complaint.complainant_id == actor.user_id)
    if data.get("state"):
        where.append(Complaint.state == data["state"])
    if data.get("channel"):
        where.append(Complaint.channel == data["channel"])
    if data.get("overdue"):
        where += [Complaint.state == "diterima", Complaint.due_at < now_utc()]
    limit = min(int(data.get("limit") or 20), 100)
    offset = int(data.get("offset") or 0)
    count = model.Session.scalar(select(func.count()).select_from(Complaint).where(*where))
    rows = model.Session.scalars(
        select(Complaint).where(*where).order_by(Complaint.created_at.desc(), Complaint.id)
        .limit(limit).offset(offset)).all()
    return {"count": count, "results": [complaint_dict(c, actor) for c in rows],
            "limit": limit, "offset": offset}


def statrequest_complaint_respond(context: dict[str, Any], data_dict: dict[str, Any]
                                  ) -> dict[str, Any]:
    """The Secretary (or a sysadmin) answers a complaint and/or closes it.

    :param id: number or id; :param response: the answer the complainant reads (required
        unless an answered complaint is only being closed); :param close: mark it selesai
    """
    data, complaint = common.target("statrequest_complaint_respond", context, data_dict,
                                    schema.complaint_respond(), _get_complaint)
    actor = access.context_actor(context)
    response, close = data.get("response") or "", bool(data.get("close"))
    # the row lock makes two officials answering at once take turns (both are kept in history)
    complaint = model.Session.scalars(
        select(Complaint).where(Complaint.id == complaint.id).with_for_update()
        .execution_options(populate_existing=True)).one()
    errors: dict[str, list[str]] = {}
    if complaint.state == "selesai":
        errors["id"] = [_("This complaint is already closed.")]
    elif not response and not (close and complaint.state == "ditanggapi"):
        errors["response"] = [_("Please write the answer to the complainant.")]
    if errors:
        model.Session.rollback()
        raise tk.ValidationError(errors)
    now = now_utc()
    state = "selesai" if close else "ditanggapi"
    if response:
        complaint.response, complaint.responded_by, complaint.responded_at = \
            response, actor.user_id, now
    if close:
        complaint.closed_at = now
    complaint.state, complaint.updated_at = state, now
    complaint.history = [*(complaint.history or []),
                         {"at": dz.iso(now), "by": actor.user_id, "state": state,
                          "response": response}]
    # the complainant's mail about an answer is committed with it, and sent after the commit
    outbox = notifications.stage_complaint_answer(complaint) if response else []
    model.Session.commit()
    notifications.enqueue_all(outbox)
    log.info("statrequest complaint %s -> %s by %s", complaint.number, state, actor.name)
    return complaint_dict(complaint, actor)
