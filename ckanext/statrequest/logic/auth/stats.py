"""Auth of the statistics: officials see the figures, everyone sees the transparency page.

Exports of request rows are for whoever may see requests beyond their own (Diskominfo and
OPD administrators); the action limits the rows to the requests the caller may see and never
includes personal data.
"""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.lib import access

_ = tk._

__all__ = ["statrequest_stats", "statrequest_stats_public", "statrequest_stats_export"]

Result = dict[str, Any]


def _actor(context: dict[str, Any]) -> access.Actor:
    return access.actor_for(context.get("auth_user_obj") or context.get("user") or None)


def statrequest_stats(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    actor = _actor(context)
    if actor.is_staff or actor.can_administer:
        return {"success": True}
    return {"success": False, "msg": _("Only Diskominfo officials may see the statistics.")}


@tk.auth_allow_anonymous_access
def statrequest_stats_public(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    """Aggregates only: published for everyone (transparency of the public service)."""
    return {"success": True}


def statrequest_stats_export(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    actor = _actor(context)
    if actor.is_staff or actor.can_administer or actor.opd_ids:
        return {"success": True}
    return {"success": False, "msg": _("You may not export data requests.")}
