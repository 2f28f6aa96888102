"""Requests, events and attachments as dicts, holding only what the viewer may see (the
rules of `ckanext.statrequest.lib.access`: personal data for the requester and Diskominfo
officials, internal steps for officials, results once delivered)."""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import bindparam, select

from ckanext.statrequest import settings
from ckanext.statrequest.core import vocabulary
from ckanext.statrequest.core.calendar import WorkingCalendar
from ckanext.statrequest.core.workflow import REQUESTER_AUDIENCE, Workflow
from ckanext.statrequest.lib import access, reasons
from ckanext.statrequest.lib import objection as objections
from ckanext.statrequest.lib.texts import lang
from ckanext.statrequest.model import (
    Attachment,
    Event,
    Objection,
    Request,
    RequestDataset,
)
from ckanext.statrequest.model import now as now_utc
from ckanext.statrequest.model.statements import built_once

PERSONAL_FIELDS = ("identity_number", "phone", "address", "email")


def iso(value: dt.datetime | dt.date | None) -> str | None:
    """ISO 8601; instants in the office's time zone (WIB/WITA/WIT), as officials read them."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(ZoneInfo(settings.get("timezone")))
    return value.isoformat() if value is not None else None


def mask(value: str | None) -> str | None:
    """3201********0001: enough to recognise a number, not enough to use it."""
    if not value:
        return value
    keep = 4 if len(value) >= 12 else 1
    return value[:keep] + "*" * max(len(value) - 2 * keep, 3) + value[-keep:]


def user_display(user_id: str | None) -> str | None:
    if not user_id:
        return None
    user = model.User.get(user_id)
    return (user.fullname or user.name) if user else None


def user_fields(user_id: str) -> dict[str, Any]:
    """The account's id, name and the name people read (full name, else user name)."""
    user = model.User.get(user_id)
    return {"user_id": user_id, "user_name": user.name if user else None,
            "user_display": (user.fullname or user.name) if user else None}


@built_once
def _names_statement() -> Any:
    return select(model.User.id, model.User.fullname, model.User.name) \
        .where(model.User.id.in_(bindparam("ids", expanding=True)))


def user_names(user_ids: set[str]) -> dict[str, str]:
    if not user_ids:
        return {}
    rows = model.Session.execute(_names_statement(), {"ids": list(user_ids)})
    return {uid: fullname or name for uid, fullname, name in rows}


def sla_info(request: Request, wf: Workflow, calendar: WorkingCalendar,
             now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or now_utc()
    if wf.is_final(request.state) or request.sla_due_at is None:
        return {"status": "closed", "working_days_left": None, "paused": False}
    paused = request.sla_paused_at is not None
    due = request.sla_due_at
    if paused:  # the deadline moves while the request waits for the requester
        from ckanext.statrequest.lib.records import due_for

        due = due_for(request, calendar, now)
    left = calendar.working_days_between(now, due)
    return {
        "status": "paused" if paused else calendar.sla_status(
            due, now, settings.due_soon_days(), days_left=left),
        "working_days_left": round(left, 1),
        "due_at": iso(due),
        "paused": paused,
    }


def request_summary(request: Request, v: access.View, wf: Workflow,
                    calendar: WorkingCalendar, names: dict[str, str] | None = None
                    ) -> dict[str, Any]:
    """The short form used by lists: no attachments, personal data masked."""
    language = lang()
    data = {
        "id": request.id,
        "tracking_number": request.tracking_number,
        "agenda_number": request.agenda_number,
        "channel": request.channel,
        "title": request.title,
        "category": request.category,
        "institution": request.institution,
        "requester_name": request.requester_name,
        "state": request.state,
        # in the reader's words: the requester's own, or the officials' (and OPD's)
        "state_label": wf.state_label(request.state, v.audience, language),
        "audience": v.audience,
        "outcome": request.outcome,
        "assignee": ((names or {}).get(request.assignee_id) or user_display(request.assignee_id))
        if v.internal else None,
        "received_at": iso(request.received_at),
        "sla_due_at": iso(request.sla_due_at),
        "sla": sla_info(request, wf, calendar),
        "version": request.version,
        "created_at": iso(request.created_at),
        "updated_at": iso(request.updated_at),
        "closed_at": iso(request.closed_at),
    }
    if v.personal_data:
        data["identity_number"] = mask(request.identity_number)
    return data


def request_full(request: Request, v: access.View, wf: Workflow,
                 calendar: WorkingCalendar) -> dict[str, Any]:
    files = visible_attachments(request, v)
    # the names of the page's people in one query (was one per file, assignee, desk clerk)
    names = user_names({request.assignee_id, request.received_by,
                        *(a.uploaded_by for a in files)} - {None})
    data = request_summary(request, v, wf, calendar, names)
    data.update({
        "description": request.description,
        "period": request.period,
        "breakdown": request.breakdown,
        "data_format": request.data_format,
        "purpose": request.purpose,
        "identity_type": request.identity_type,
        "requester_id": request.requester_id if (v.is_requester or v.internal) else None,
        "assignee_id": request.assignee_id if v.internal else None,
        "personal_data_purged": request.personal_data_purged_at is not None,
    })
    # the ground of the decision, shown wherever the outcome is
    reason = reasons.of_request(request.id) if request.outcome else None
    data["reason"] = {"code": reason["code"], "label": reason["label"][
        "en" if lang() == "en" else "id"]} if reason else None
    if v.personal_data:
        data.update({field: getattr(request, field) for field in PERSONAL_FIELDS})
    datasets = model.Session.execute(_datasets_statement(), {"request_id": request.id}).all()
    data["datasets"] = [
        {"id": d.id, "name": d.name, "title": d.title, "role": d.role}
        for d in datasets if not _private_for(d.id, v)
        and (d.role != "result" or access.sees_results(v))
    ]
    orgs = v.links if v.links is not None else access.organization_links(request.id)
    data["organizations"] = [
        {"id": o.id, "name": o.name, "title": o.title, "routed": o.routed} for o in orgs
    ]
    data["attachments"] = [attachment_dict(a, names) for a in files]
    if v.internal:  # the register's entry of a request received at the front desk
        data.update({
            "received_by": names.get(request.received_by) or user_display(request.received_by),
            "sender_letter_number": request.sender_letter_number,
            "sender_letter_date": iso(request.sender_letter_date),
        })
    return data


@built_once
def _datasets_statement() -> Any:
    """The active datasets linked to :request_id, with the link's role."""
    return (select(model.Package.id, model.Package.name, model.Package.title, RequestDataset.role)
            .join(RequestDataset, RequestDataset.package_id == model.Package.id)
            .where(RequestDataset.request_id == bindparam("request_id"),
                   model.Package.state == "active"))


@built_once
def _attachments_statement() -> Any:
    """The files of :request_id not deleted, oldest first."""
    return (select(Attachment)
            .where(Attachment.request_id == bindparam("request_id"), Attachment.deleted_at.is_(None))
            .order_by(Attachment.created_at))


def _private_for(package_id: str, v: access.View) -> bool:
    """A private dataset linked to a request is listed only for those who may read it."""
    pkg = model.Package.get(package_id)
    if pkg is None or not pkg.private:
        return False
    try:
        tk.check_access("package_show", {"user": v.actor.name or ""}, {"id": package_id})
        return False
    except tk.NotAuthorized:
        return True


def visible_attachments(request: Request, v: access.View) -> list[Attachment]:
    rows = model.Session.scalars(_attachments_statement(), {"request_id": request.id}).all()
    return [a for a in rows if access.attachment_visible(a, v)]


def attachment_dict(a: Attachment, names: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "id": a.id,
        "request_id": a.request_id,
        "kind": a.kind,
        "name": a.name,
        "size": a.size,
        "media_type": a.media_type,
        "sha256": a.sha256,
        "uploaded_by": (names or {}).get(a.uploaded_by) or user_display(a.uploaded_by),
        "created_at": iso(a.created_at),
    }


def received_outside(data: dict[str, Any]) -> dict[str, Any]:
    """An upload by staff of data an OPD sent outside the portal: for whom, how it came."""
    group = model.Group.get(data["on_behalf_of_opd"])
    opd = (group.title or group.name) if group else data["on_behalf_of_opd"]
    channel = data.get("channel") or ""
    channel_label = tk._(vocabulary.DATA_CHANNELS.get(channel, channel))
    return {
        "organization_id": data["on_behalf_of_opd"], "organization": opd,
        "channel": channel, "channel_label": channel_label,
        "uploaded_by": user_display(data.get("uploaded_by")),
        "text": tk._("Uploaded by staff on behalf of %(opd)s, received by %(channel)s")
        % {"opd": opd, "channel": channel_label},
    }


def corrections(changes: dict[str, Any], v: access.View) -> list[dict[str, Any]]:
    """A correction's changes as the timeline reads them ("Title: old → new"), in form order;
    personal fields (masked identity number, phone, address, email) without their values
    for a viewer who may not see personal data (a routed OPD)."""
    rows = []
    for name, label in vocabulary.CORRECTABLE_FIELDS.items():
        change = changes.get(name)
        if not isinstance(change, dict):
            continue
        shown = v.personal_data or name not in PERSONAL_FIELDS
        old, new = (change.get("old"), change.get("new")) if shown else (None, None)
        if name in ("category", "identity_type"):  # codes: their labels
            codes = (vocabulary.REQUESTER_CATEGORIES if name == "category"
                     else vocabulary.IDENTITY_TYPES)
            old, new = (tk._(codes[c]) if c in codes else c for c in (old, new))
        rows.append({"field": name, "label": tk._(label), "old": old, "new": new,
                     "hidden": not shown})
    return rows


def event_dict(e: Event, v: access.View, wf: Workflow) -> dict[str, Any]:
    language = lang()
    t = wf.transitions.get(e.transition)
    position = wf.positions.get(e.actor_role)
    role_label = position.get(language) if position else {
        "pemohon": tk._("Requester"), "opd": tk._("Data-owning agency (OPD)"),
        "sysadmin": tk._("Portal administrator"), "system": tk._("System"),
    }.get(e.actor_role, e.actor_role)
    special = {"ajukan": tk._("Request submitted"),
               "override": tk._("Repaired by the portal administrator"),
               vocabulary.DESK_EVENT: tk._("Registered at the front desk"),
               vocabulary.CORRECTION_EVENT: tk._("Request details corrected"),
               # parallel OPD tasks (lib/opd_tasks.py)
               "opd_task_close": tk._("Agency's task closed by staff"),
               "opd_task_reminder": tk._("Agency reminded of its task"),
               "opd_task_escalation": tk._("Agency's task overdue: superiors told")}
    data: dict[str, Any] = {
        "id": e.id,
        "transition": e.transition,
        "label": t.label.get(language) if t else special.get(e.transition, e.transition),
        "actor_role": e.actor_role,
        "actor_role_label": role_label,
        "acting": e.acting,
        "from_state": e.from_state,
        "to_state": e.to_state,
        "note": e.note,
        "visibility": e.visibility,
        "created_at": iso(e.created_at),
    }
    extra = e.data or {}
    if extra.get("extension_days"):  # the deadline extension: everyone who sees it, both dates
        data["extension"] = {"days": extra["extension_days"],
                             "due_before": extra.get("due_before"),
                             "due_after": extra.get("due_after")}
    if extra.get("changes"):
        data["changes"] = corrections(extra["changes"], v)
    if v.internal or v.is_routed_opd:
        data["actor"] = user_display(e.actor_id)
        # a correction's personal values only for those who see personal data
        hidden = {"secret"} | (set() if v.personal_data else {"changes"})
        data["data"] = {k: val for k, val in extra.items() if k not in hidden}
        if (e.data or {}).get("on_behalf_of_opd"):  # ("on_behalf_of" is a Plt's official)
            data["on_behalf_of_opd"] = received_outside(e.data)
        if (e.data or {}).get("reason"):
            data["reason_label"] = reasons.label(e.data["reason"], language,
                                                 e.data.get("reason_label"))
    elif e.actor_role == "pemohon":
        data["actor"] = user_display(e.actor_id)
    return data


def objection_dict(o: Objection, request: Request, wf: Workflow,
                   audience: str = REQUESTER_AUDIENCE) -> dict[str, Any]:
    """An objection as its requester and the officials see it (both see all of it; its state
    in the words of `audience`)."""
    language = lang()
    decided = o.decided_at is not None
    return {
        "id": o.id, "request_id": request.id, "tracking_number": request.tracking_number,
        "title": request.title, "state": o.state,
        "state_label": wf.state_label(o.state, audience, language),
        "grounds": [{"code": c, "label": label} for c, label in zip(
            o.grounds or [], objections.ground_labels(list(o.grounds or []), language),
            strict=True)],
        "reason": o.reason, "filed_at": iso(o.filed_at), "due_at": iso(o.due_at),
        "overdue": not decided and now_utc() > o.due_at,
        "decision": o.decision, "decision_label": objections.decision_label(o.decision, language),
        "decision_reason": o.decision_reason, "decided_at": iso(o.decided_at),
        "decided_by": user_display(o.decided_by) if o.decided_by else None,
        "decided_on_time": (o.decided_at <= o.due_at) if o.decided_at else None,
        "letter_number": o.letter_number, "letter_attachment_id": o.letter_attachment_id,
    }
