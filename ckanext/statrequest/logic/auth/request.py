"""Auth functions of the request actions (their names: `logic.api.ACTIONS["request"]`). The
rules themselves are in `ckanext.statrequest.lib.access`.

CKAN lets sysadmins pass every auth function; the workflow still refuses them any step
that their positions do not give them (repairs go through `statrequest_override`).
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import select

from ckanext.statrequest import settings
from ckanext.statrequest.lib import access, attachments, guest, records
from ckanext.statrequest.logic import common
from ckanext.statrequest.model import Attachment, Event, Request

_ = tk._

Result = common.Result


@tk.auth_allow_anonymous_access
def statrequest_create(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    if access.context_actor(context).anonymous and not guest.enabled():
        return common.refused(_("Please log in to submit a data request."))
    return common.ok()


@tk.auth_allow_anonymous_access
def statrequest_show(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    request = records.row(Request, data_dict.get("id"))
    if request is None:
        return common.refused(_("Request not found"))
    # kept for the action of this call (statrequest_show): the view is built once
    if access.kept_view(context, request, data_dict.get("token")).summary:
        return common.ok()
    return common.refused(_("You may not see this request."))


statrequest_available_transitions = statrequest_show
statrequest_event_list = statrequest_show
statrequest_transition = statrequest_show


def correction_refused(actor: access.Actor, request: Request, token: Any = None,
                       v: access.View | None = None) -> str | None:
    """Why `actor` may not correct the request's details now, or None: only while the request
    waits for the requester's changes (a state the workflow gives the requester), and only the
    requester (a guest by their link) or, for a request without an account (registered at
    the front desk), a holder of the workflow's front desk position. Checked by the action
    too, because CKAN lets sysadmins pass every auth function."""
    wf = settings.workflow()
    if v is None:  # (the request page passes the view it built)
        v = access.view(actor, request, token if isinstance(token, str) else None)
    desk = wf.front_desk_position
    if not (v.is_requester or (request.requester_id is None and desk in actor.positions)):
        return _("Only the requester may correct this request.")
    if request.state not in wf.states_waiting_for([access.REQUESTER]):
        return _("A request can be corrected only while it waits for your changes.")
    return None


@tk.auth_allow_anonymous_access  # a guest, by the signed link of their request
def statrequest_update(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    request = records.row(Request, data_dict.get("id"))
    if request is None:
        return common.refused(_("Request not found"))
    refused = correction_refused(access.context_actor(context), request, data_dict.get("token"))
    return common.refused(refused) if refused else common.ok()


def statrequest_list(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    if access.kept_actor(context).anonymous:  # kept for the action of this call
        return common.refused(_("Please log in to see data requests."))
    return common.ok()


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
    request = records.row(Request, data_dict.get("id"))
    if request is None:
        return common.refused(_("Request not found"))
    if may_add(access.context_actor(context), request, data_dict.get("kind")):
        return common.ok()
    return common.refused(_("You may not add files to this request now."))


def statrequest_attachment_show(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    row = records.row(Attachment, data_dict.get("id"))
    request = model.Session.get(Request, row.request_id) if row else None
    if row is None or request is None:
        return common.refused(_("Attachment not found"))
    v = access.view(access.context_actor(context), request, data_dict.get("token"))
    if access.attachment_visible(row, v):
        return common.ok()
    return common.refused(_("You may not open this file."))


statrequest_attachment_download = tk.auth_allow_anonymous_access(statrequest_attachment_show)
statrequest_attachment_show = tk.auth_allow_anonymous_access(statrequest_attachment_show)


# letters are made by steps, never uploaded
RECORD_KINDS = ("draft_reply", "signed_reply", "objection_decision")


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
    row = records.row(Attachment, data_dict.get("id"))
    if row is None:
        return common.refused(_("You may not delete this file."))
    refused = deletion_refused(row, access.context_actor(context))
    return common.refused(refused) if refused else common.ok()


statrequest_position_assign = common.administrator_only
statrequest_position_revoke = common.administrator_only
statrequest_holiday_create = common.administrator_only
statrequest_holiday_delete = common.administrator_only


def statrequest_position_list(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    if common.official_or_administrator(access.context_actor(context)):
        return common.ok()
    return common.refused(_("Only Diskominfo officials may see the positions."))


statrequest_holiday_list = common.everyone
statrequest_workflow_show = common.everyone
statrequest_track = common.everyone


def statrequest_override(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return common.refused(_("Only a sysadmin may repair a request."))


