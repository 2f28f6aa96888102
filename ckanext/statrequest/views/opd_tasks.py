"""The close form of an OPD's task on the request page (parallel OPD tasks, issue #12).

Thin: the rule is the action's (statrequest_opd_task_close); the page posts to it and goes
back to the request page, with the refusal's message when there is one."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk
from flask import Blueprint

from ckanext.statrequest.views.common import call, submit

opd_tasks = Blueprint("statrequest_opd_tasks", __name__, url_prefix="/permintaan-data")
_ = tk._


@opd_tasks.route("/<ref>/tugas-opd/tutup", methods=["POST"])
def close(ref: str) -> Any:
    request = call("statrequest_show", id=ref)
    form = tk.request.form
    try:
        done, errors = submit("statrequest_opd_task_close", {
            "id": request["id"], "organization": form.get("organization", ""),
            "reason": form.get("reason", ""), "version": form.get("version", "")})
    except tk.NotAuthorized:
        return tk.abort(403, _("Only the assigned staff member or their superiors may close an "
                               "agency's task."))
    if done is not None:
        tk.h.flash_success(_("The agency's task is closed."))
    else:
        tk.h.flash_error(" ".join(m for messages in errors.values() for m in messages))
    return tk.redirect_to("statrequest_portal.read", ref=request["tracking_number"])
