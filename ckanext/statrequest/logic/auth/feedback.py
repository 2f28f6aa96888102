"""Auth of the survey and complaints (their names: `logic.api.ACTIONS["feedback"]`).

The survey is the requester's: only they fill it, and they and Diskominfo officials read it.
A complaint is seen by its complainant and Diskominfo officials (position holders and
sysadmins); it is answered by the configured position (the Secretary) or a sysadmin.
"""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest import settings
from ckanext.statrequest.lib import access, records
from ckanext.statrequest.logic import common
from ckanext.statrequest.model import Request
from ckanext.statrequest.model.feedback import Complaint

_ = tk._

Result = common.Result


def is_official(actor: access.Actor) -> bool:
    """Who receives complaints and reads surveys: Diskominfo position holders and sysadmins."""
    return actor.is_staff


def may_respond(actor: access.Actor) -> bool:
    """Who answers complaints: the configured position (the Secretary) and sysadmins."""
    return actor.sysadmin or settings.get("complaint.responder_position") in actor.positions


def is_requester(actor: access.Actor, request: Request) -> bool:
    """Who fills a request's survey: its requester (an account; a guest has none)."""
    return actor.user_id is not None and actor.user_id == request.requester_id


def statrequest_survey_submit(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    request = records.row(Request, data_dict.get("id"))
    if request is None:
        return common.refused(_("Request not found"))
    if is_requester(access.context_actor(context), request):
        return common.ok()
    return common.refused(_("Only the requester may fill the survey of a request."))


def statrequest_survey_show(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    request = records.row(Request, data_dict.get("id"))
    if request is None:
        return common.refused(_("Request not found"))
    actor = access.context_actor(context)
    if is_requester(actor, request) or is_official(actor):
        return common.ok()
    return common.refused(_("You may not see this survey."))


def statrequest_complaint_create(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    if access.context_actor(context).anonymous:
        return common.refused(_("Please log in to file a complaint."))
    return common.ok()


def front_desk_refusal(actor: access.Actor) -> str | None:
    """Why `actor` may not record a complaint received at the counter (None: they may).
    The front desk is the workflow's `front_desk_position`; a workflow without one has no
    counter in the service, and then nobody records one, not even a sysadmin."""
    position = settings.workflow().front_desk_position
    if position is None:
        return _("This service has no front desk (the workflow names no front desk position); "
                 "complaints can only be filed online by the complainant.")
    if actor.sysadmin or position in actor.positions:
        return None
    return _("Only the front desk officer records complaints received at the counter.")


def statrequest_complaint_record(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    refusal = front_desk_refusal(access.context_actor(context))
    return common.refused(refusal) if refusal else common.ok()


def statrequest_complaint_show(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    complaint = records.row(Complaint, data_dict.get("id"))
    if complaint is None:
        return common.refused(_("Complaint not found"))
    actor = access.context_actor(context)
    if is_official(actor) or (actor.user_id is not None
                              and actor.user_id == complaint.complainant_id):
        return common.ok()
    return common.refused(_("You may not see this complaint."))


def statrequest_complaint_list(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    if access.context_actor(context).anonymous:
        return common.refused(_("Please log in first."))
    return common.ok()  # the action lists only the caller's own, unless an official


def statrequest_complaint_respond(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    if may_respond(access.context_actor(context)):
        return common.ok()
    return common.refused(_("Only the Secretary may answer complaints."))
