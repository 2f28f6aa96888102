"""Auth functions of the objection actions (their names: `logic.api.ACTIONS["objection"]`).

Filing is the requester's (the engine's `file` step names the actor), deciding the holder of
the position the `decide` step names; CKAN lets sysadmins pass every auth function, so the
actions check those roles again themselves.
"""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.lib import access, records
from ckanext.statrequest.logic import common
from ckanext.statrequest.model import Request

_ = tk._

Result = common.Result


def _view(context: dict[str, Any], data_dict: dict[str, Any]) -> access.View | None:
    request = records.row(Request, data_dict.get("id"))
    if request is None:
        return None
    return access.view(access.context_actor(context), request, data_dict.get("token"))


@tk.auth_allow_anonymous_access
def statrequest_objection_create(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    v = _view(context, data_dict)
    if v is None:
        return common.refused(_("Request not found"))
    if not v.is_requester:
        return common.refused(_("Only the requester may object to the answer."))
    return common.ok()


def statrequest_objection_decide(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    v = _view(context, data_dict)
    if v is None:
        return common.refused(_("Request not found"))
    if not v.actor.is_staff:
        return common.refused(_("You may not decide objections."))
    return common.ok()


@tk.auth_allow_anonymous_access
def statrequest_objection_show(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    v = _view(context, data_dict)
    if v is None:
        return common.refused(_("Request not found"))
    if v.is_requester or v.actor.is_staff:
        return common.ok()
    return common.refused(_("You may not see this request."))


def statrequest_objection_list(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    if access.context_actor(context).is_staff:
        return common.ok()
    return common.refused(_("Only officials may list objections."))
