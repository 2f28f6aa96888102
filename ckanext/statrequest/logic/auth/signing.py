"""Auth functions of the signing-credential actions: the portal administrator only."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.lib import access

_ = tk._

__all__ = ["statrequest_credential_set", "statrequest_credential_list",
           "statrequest_credential_revoke"]


def _administrator(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    actor = access.actor_for(context.get("auth_user_obj") or context.get("user") or None)
    if actor.can_administer:
        return {"success": True}
    return {"success": False, "msg": _("Only the portal administrator may do this.")}


statrequest_credential_set = _administrator
statrequest_credential_list = _administrator
statrequest_credential_revoke = _administrator
