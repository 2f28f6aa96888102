"""Auth functions of the front desk and the incoming-letter register (their names:
`logic.api.ACTIONS["reception"]`)."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest import settings
from ckanext.statrequest.core.workflow import Workflow
from ckanext.statrequest.lib import access
from ckanext.statrequest.lib.texts import lang
from ckanext.statrequest.logic import common

_ = tk._

Result = common.Result


def desk_refusal(actor: access.Actor, wf: Workflow) -> str | None:
    """Why `actor` may not register at the front desk, or None: registering is the desk's
    work, a sysadmin's too (the auth function is checked for sysadmins; the action asks
    again, for internal calls that skip auth)."""
    if wf.front_desk_position is None:
        return _("This service has no front desk: requests are submitted on the portal only.")
    if actor.anonymous:
        return _("Please log in first.")
    if wf.front_desk_position not in actor.positions:
        label = wf.positions[wf.front_desk_position].get(lang())
        return _("Only the %(position)s registers requests received at the front desk.") % {
            "position": label}
    return None


@tk.auth_sysadmins_check  # a sysadmin without the position is no front desk either
def statrequest_register(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    refused = desk_refusal(access.context_actor(context), settings.workflow())
    return common.refused(refused) if refused else common.ok()


def _officials(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    """The register names every requester: Diskominfo officials and sysadmins only."""
    if access.context_actor(context).is_staff:
        return common.ok()
    return common.refused(_("Only Diskominfo officials may see the incoming-letter register."))


statrequest_register_list = _officials
statrequest_register_export = _officials
