"""Auth of the survey and complaints.

The survey is the requester's: only they fill it, and they and Diskominfo officials read it.
A complaint is seen by its complainant and Diskominfo officials (position holders and
sysadmins); it is answered by the configured position (the Secretary) or a sysadmin.
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckantoolkit as tk

from ckanext.statrequest import settings
from ckanext.statrequest.lib import access
from ckanext.statrequest.model import Request
from ckanext.statrequest.model.feedback import Complaint

_ = tk._

__all__ = [
    "statrequest_survey_submit",
    "statrequest_survey_show",
    "statrequest_complaint_create",
    "statrequest_complaint_show",
    "statrequest_complaint_list",
    "statrequest_complaint_respond",
]

Result = dict[str, Any]


def _ok() -> Result:
    return {"success": True}


def _no(msg: str) -> Result:
    return {"success": False, "msg": msg}


def _actor(context: dict[str, Any]) -> access.Actor:
    return access.actor_for(context.get("auth_user_obj") or context.get("user") or None)


def _get(cls: type, data_dict: dict[str, Any]) -> Any:
    ref = str(data_dict.get("id") or "")
    return model.Session.get(cls, ref) if ref and len(ref) <= 64 else None


def _is_requester(actor: access.Actor, request: Request) -> bool:
    return actor.user_id is not None and actor.user_id == request.requester_id


def statrequest_survey_submit(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    request = _get(Request, data_dict)
    if request is None:
        return _no(_("Request not found"))
    if _is_requester(_actor(context), request):
        return _ok()
    return _no(_("Only the requester may fill the survey of a request."))


def statrequest_survey_show(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    request = _get(Request, data_dict)
    if request is None:
        return _no(_("Request not found"))
    actor = _actor(context)
    if _is_requester(actor, request) or actor.is_staff:
        return _ok()
    return _no(_("You may not see this survey."))


def statrequest_complaint_create(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    if _actor(context).anonymous:
        return _no(_("Please log in to file a complaint."))
    return _ok()


def statrequest_complaint_show(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    complaint = _get(Complaint, data_dict)
    if complaint is None:
        return _no(_("Complaint not found"))
    actor = _actor(context)
    if actor.is_staff or (actor.user_id is not None
                          and actor.user_id == complaint.complainant_id):
        return _ok()
    return _no(_("You may not see this complaint."))


def statrequest_complaint_list(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    if _actor(context).anonymous:
        return _no(_("Please log in first."))
    return _ok()  # the action lists only the caller's own, unless an official


def statrequest_complaint_respond(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    actor = _actor(context)
    if actor.sysadmin or settings.get("complaint.responder_position") in actor.positions:
        return _ok()
    return _no(_("Only the Secretary may answer complaints."))
