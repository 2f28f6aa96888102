"""Auth functions of the OPD task actions (names: `logic.api.ACTIONS["opd"]`)."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.lib import access, opd_tasks, records
from ckanext.statrequest.logic import common
from ckanext.statrequest.model import Request

_ = tk._


def statrequest_opd_task_close(context: dict[str, Any], data_dict: dict[str, Any]
                               ) -> common.Result:
    request = records.row(Request, data_dict.get("id"))
    if request is None:
        return common.refused(_("Request not found"))
    if opd_tasks.may_close(access.context_actor(context), request):
        return common.ok()
    return common.refused(_("Only the assigned staff member or their superiors may close an "
                            "agency's task."))
