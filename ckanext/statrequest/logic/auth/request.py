"""Auth functions, one per action. The rules themselves are in `ckanext.statrequest.access`.

CKAN lets sysadmins pass every auth function; the workflow still refuses them any step
that their positions do not give them (repairs go through `statrequest_override`).
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import select

from ckanext.statrequest import settings
from ckanext.statrequest.lib import access, attachments
from ckanext.statrequest.model import Attachment, Event, Request

_ = tk._

__all__ = [
    "statrequest_create",
    "statrequest_show",
    "statrequest_list",
    "statrequest_transition",
    "statrequest_available_transitions",
    "statrequest_event_list",
    "statrequest_attachment_create",
    "statrequest_attachment_show",
    "statrequest_attachment_delete",
    "statrequest_attachment_download",
    "statrequest_position_assign",
    "statrequest_position_revoke",
    "statrequest_position_list",
    "statrequest_holiday_create",
    "statrequest_holiday_delete",
    "statrequest_holiday_list",
    "statrequest_workflow_show",
    "statrequest_override",
    "statrequest_track",
]

Result = dict[str, Any]


def _ok() -> Result:
    return {"success": True}


def _no(msg: str) -> Result:
    return {"success": False, "msg": msg}


def _actor(context: dict[str, Any]) -> access.Actor:
    return access.actor_for(context.get("auth_user_obj") or context.get("user") or None)


def _request(data_dict: dict[str, Any]) -> Request | None:
    ref = str(data_dict.get("id") or "")
    return model.Session.get(Request, ref) if ref and len(ref) <= 64 else None


@tk.auth_allow_anonymous_access
def statrequest_create(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    from ckanext.statrequest.lib import guest

    if _actor(context).anonymous and not guest.enabled():
        return _no(_("Please log in to submit a data request."))
    return _ok()


@tk.auth_allow_anonymous_access
def statrequest_show(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    request = _request(data_dict)
    if request is None:
        return _no(_("Request not found"))
    if access.view(_actor(context), request, data_dict.get("token")).summary:
        return _ok()
    return _no(_("You may not see this request."))


statrequest_available_transitions = statrequest_show
statrequest_event_list = statrequest_show
statrequest_transition = statrequest_show


def statrequest_list(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    if _actor(context).anonymous:
        return _no(_("Please log in to see data requests."))
    return _ok()


def may_add(actor: access.Actor, request: Request, kind: Any) -> bool:
    """The requester while the request waits for them; the routed OPD (results only)
    while it is asked for them and while staff check them (several OPDs may answer)."""
    v = access.view(actor, request)
    wf = settings.workflow()
    if kind in attachments.REQUESTER_KINDS and v.is_requester and \
            request.state in wf.states_waiting_for([access.REQUESTER]):
        return True
    opd_states = set(wf.states_waiting_for([access.OPD]))
    checking = {t.target for t in wf.transitions.values() if t.actor == access.OPD}
    return kind == "result" and v.is_routed_opd and request.state in opd_states | checking


def statrequest_attachment_create(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    request = _request(data_dict)
    if request is None:
        return _no(_("Request not found"))
    if may_add(_actor(context), request, data_dict.get("kind")):
        return _ok()
    return _no(_("You may not add files to this request now."))


def _attachment(data_dict: dict[str, Any]) -> Attachment | None:
    ref = str(data_dict.get("id") or "")
    return model.Session.get(Attachment, ref) if ref and len(ref) <= 64 else None


def statrequest_attachment_show(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    from ckanext.statrequest.logic.dictization import attachment_visible

    row = _attachment(data_dict)
    request = model.Session.get(Request, row.request_id) if row else None
    if row is None or request is None:
        return _no(_("Attachment not found"))
    if attachment_visible(row, access.view(_actor(context), request, data_dict.get("token"))):
        return _ok()
    return _no(_("You may not open this file."))


statrequest_attachment_download = tk.auth_allow_anonymous_access(statrequest_attachment_show)
statrequest_attachment_show = tk.auth_allow_anonymous_access(statrequest_attachment_show)


RECORD_KINDS = ("draft_reply", "signed_reply")  # letters are made by steps, never uploaded


def is_record(row: Attachment) -> bool:
    """A letter, or a file handed in with a step (submission, resubmission, the OPD's
    answer): it belongs to the request's record and stays."""
    if row.kind in RECORD_KINDS:
        return True
    return model.Session.scalar(select(Event.id).where(
        Event.request_id == row.request_id, Event.data["files"].contains([row.id])).limit(1)
    ) is not None


def deletion_refused(row: Attachment, actor: access.Actor) -> str | None:
    """Why `actor` may not withdraw the file, or None. Checked by the action itself too,
    because CKAN lets sysadmins pass every auth function."""
    request = model.Session.get(Request, row.request_id)
    if request is None or actor.anonymous or row.uploaded_by != actor.user_id:
        return _("You may not delete this file.")
    if is_record(row):
        return _("This file is part of the request's record and cannot be deleted.")
    if not may_add(actor, request, row.kind):
        return _("You may not delete this file.")
    return None


def statrequest_attachment_delete(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    row = _attachment(data_dict)
    if row is None:
        return _no(_("You may not delete this file."))
    refused = deletion_refused(row, _actor(context))
    return _no(refused) if refused else _ok()


def _administrator(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    if _actor(context).can_administer:
        return _ok()
    return _no(_("Only the portal administrator may do this."))


statrequest_position_assign = _administrator
statrequest_position_revoke = _administrator
statrequest_holiday_create = _administrator
statrequest_holiday_delete = _administrator


def statrequest_position_list(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    actor = _actor(context)
    if actor.is_staff or actor.can_administer:
        return _ok()
    return _no(_("Only Diskominfo officials may see the positions."))


@tk.auth_allow_anonymous_access
def statrequest_holiday_list(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return _ok()


@tk.auth_allow_anonymous_access
def statrequest_workflow_show(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return _ok()


@tk.auth_allow_anonymous_access
def statrequest_track(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return _ok()


def statrequest_override(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return _no(_("Only a sysadmin may repair a request."))


