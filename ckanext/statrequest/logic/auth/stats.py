"""Auth of the statistics (their names: `logic.api.ACTIONS["stats"]`): officials see the
figures, everyone sees the transparency page.

Exports of request rows are for whoever may see requests beyond their own (Diskominfo and
OPD administrators); the action limits the rows to the requests the caller may see and never
includes personal data.
"""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.lib import access
from ckanext.statrequest.logic import common

_ = tk._


def statrequest_stats(context: dict[str, Any], data_dict: dict[str, Any]) -> common.Result:
    if common.official_or_administrator(access.context_actor(context)):
        return common.ok()
    return common.refused(_("Only Diskominfo officials may see the statistics."))


# aggregates only: published for everyone (transparency of the public service)
statrequest_stats_public = common.everyone


def statrequest_stats_export(context: dict[str, Any], data_dict: dict[str, Any]
                             ) -> common.Result:
    actor = access.context_actor(context)
    if common.official_or_administrator(actor) or actor.opd_ids:
        return common.ok()
    return common.refused(_("You may not export data requests."))
