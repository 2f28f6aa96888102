"""Actions on the OPD tasks of a request (parallel OPD tasks, issue #12; names:
`logic.api.ACTIONS["opd"]`). The rules are in `ckanext.statrequest.lib.opd_tasks`."""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckantoolkit as tk

from ckanext.statrequest import settings
from ckanext.statrequest.lib import access, notifications, opd_tasks, records
from ckanext.statrequest.logic import common
from ckanext.statrequest.logic.schema import opd as schema
from ckanext.statrequest.model import Event, OpdTask
from ckanext.statrequest.model import now as now_utc

_ = tk._


def statrequest_opd_task_close(context: dict[str, Any], data_dict: dict[str, Any]
                               ) -> dict[str, Any]:
    """Close an OPD's open task with a reason (the assigned staff member or a superior of the
    staff position): the OPD need not answer any more. When it was the last open task the
    request moves on as after the OPD's answers (by the workflow's answering steps).

    :param id: the request; :param organization: the OPD (id); :param reason: why (recorded
        on the task and on the request's timeline); :param version: the version the caller saw
    :returns: {"state": the request's state now, "version", "tasks": the task table}
    """
    data, request = common.target("statrequest_opd_task_close", context, data_dict,
                                  schema.task_close(), common.get_request)
    actor = access.context_actor(context)
    if not opd_tasks.may_close(actor, request):  # sysadmins pass CKAN's auth, not this
        raise tk.NotAuthorized(_("Only the assigned staff member or their superiors may close "
                                 "an agency's task."))
    wf = settings.workflow()
    task = model.Session.get(OpdTask, (request.id, data["organization"]))
    if task is None:
        raise tk.ValidationError({"organization": [_(
            "This request was not sent to that agency (OPD).")]})
    if task.status != opd_tasks.ASKED or not opd_tasks.opd_state(wf, request.state):
        raise tk.ValidationError({"organization": [_(
            "This agency's task is already settled.")]})
    if data["version"] != request.version:
        raise common.stale_version()
    now = now_utc()
    from_state = request.state
    try:
        target = opd_tasks.settle(request, task.organization_id, opd_tasks.CLOSED, now,
                                  actor.user_id, data["reason"])
        version = records.guarded_update(request.id, data["version"],
                                         {"state": target, "updated_at": now})
        model.Session.refresh(request)
        role = wf.assignee_position if actor.user_id == request.assignee_id else next(
            (p for p in wf.escalation_chain(wf.assignee_position or "") if p in actor.positions),
            "sysadmin")
        event = Event(request_id=request.id, actor_id=actor.user_id, actor_role=role,
                      acting=bool(actor.positions.get(role, False)),
                      transition=opd_tasks.CLOSE_EVENT, from_state=from_state, to_state=target,
                      note=data["reason"], visibility="internal",
                      data={"opd_task": {"organization_id": task.organization_id,
                                         "waiting": target == from_state}},
                      version=version, created_at=now)
        model.Session.add(event)
        # the last task closed: whoever holds the next state is told, as after an answer
        outbox = notifications.stage_transition(request, event) if target != from_state else []
        model.Session.commit()
    except records.StaleVersion:
        model.Session.rollback()
        raise common.stale_version() from None
    except Exception:
        model.Session.rollback()
        raise
    notifications.enqueue_all(outbox)
    v = access.view(actor, request)
    return {"state": request.state, "version": request.version,
            "tasks": opd_tasks.task_rows(request, v, now)}
