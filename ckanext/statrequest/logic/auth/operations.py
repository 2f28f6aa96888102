"""Auth functions of the operations actions (CKAN lets sysadmins pass all of them)."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.lib import access

_ = tk._

__all__ = [
    "statrequest_notifications_flush",
    "statrequest_sla_check",
    "statrequest_purge_spam",
    "statrequest_purge_personal_data",
    "statrequest_identity_access_list",
]

# The position that answers for personal data in the default workflow (the Secretary).
PRIVACY_POSITION = "sekretaris"


def _sysadmin_only(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    return {"success": False, "msg": _("Only a sysadmin may do this.")}


statrequest_notifications_flush = _sysadmin_only
statrequest_sla_check = _sysadmin_only
statrequest_purge_spam = _sysadmin_only
statrequest_purge_personal_data = _sysadmin_only


def statrequest_identity_access_list(context: dict[str, Any], data_dict: dict[str, Any]
                                     ) -> dict[str, Any]:
    actor = access.actor_for(context.get("auth_user_obj") or context.get("user") or None)
    if PRIVACY_POSITION in actor.positions:
        return {"success": True}
    return {"success": False,
            "msg": _("Only the Secretary may see who opened identity documents.")}
