"""Auth of pages that show more than one action's answer: who sees every request or every
complaint, prints a disposition sheet, or opens an OPD's request tab.

These are not actions: the pages ask them with ``tk.check_access`` before they render, so that
no page decides rights itself. CKAN lets sysadmins pass them all.
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckantoolkit as tk

from ckanext.statrequest.lib import access

_ = tk._

__all__ = [
    "statrequest_request_list_all",
    "statrequest_disposition_sheet",
    "statrequest_opd_requests",
    "statrequest_complaint_list_all",
]

Result = dict[str, Any]


def _officials_only(context: dict[str, Any], msg: str) -> Result:
    if access.context_actor(context).is_staff:
        return {"success": True}
    return {"success": False, "msg": msg}


def statrequest_request_list_all(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    """Every request, with the filters of the "All requests" page: Diskominfo officials."""
    return _officials_only(context, _("Only Diskominfo officials may see all requests."))


def statrequest_disposition_sheet(context: dict[str, Any], data_dict: dict[str, Any]
                                  ) -> Result:
    """The printed disposition sheet, an internal form of Diskominfo."""
    return _officials_only(context, _(
        "Only Diskominfo officials may print the disposition sheet."))


def statrequest_complaint_list_all(context: dict[str, Any], data_dict: dict[str, Any]
                                   ) -> Result:
    """Every complaint (others see only their own): those who receive complaints."""
    return _officials_only(context, _("Only Diskominfo officials may see all complaints."))


def statrequest_opd_requests(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    """The request tab of an organisation (``organization``: its id or name): its admins and
    editors."""
    ref = str(data_dict.get("organization") or "")
    group = model.Group.get(ref) if 0 < len(ref) <= 100 else None
    if group is not None and group.is_organization and group.id in access.context_actor(context).opd_ids:
        return {"success": True}
    return {"success": False, "msg": _(
        "Only admins and editors of this organisation may see its requests.")}
