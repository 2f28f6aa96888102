"""Parallel OPD tasks (issue #12): a request routed to several OPD gets one task per OPD, each
with its own status, deadline, reminder and escalation.

- Routing (a step that `requires: [opd]` into a state held by `opd`) asks each named OPD: a
  task `asked`, due `opd_task_days` working days later but never after the request's own
  deadline. A step back into such a state without new OPD (the results did not match) asks
  the OPD the staff member names (by default those whose answers were checked, i.e. answered;
  every one when none answered); the other tasks keep their status.
- The request's deadline extension moves every open task's deadline by the same working days
  (still capped by the request's new deadline); each OPD concerned is mailed its new date.
- An OPD's answer (a step of the `opd` actor, or staff's upload on an OPD's behalf, from a
  state held by `opd`) settles ITS task: `answered` when the step carries files (the YAML's
  `files:` requirement), `no_data` when it does not. The request stays where it is until every
  task is settled; then it moves on by the YAML: where an answering step with files leads when
  at least one OPD answered, where the step without files leads when none did.
- Staff close the remaining tasks with a reason (`statrequest_opd_task_close`); the last one
  moves the request on the same way.
- Overdue is derived: a task still asked after its `due`.

No state or transition code is written here: everything is read from the workflow.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import bindparam, select

from ckanext.statrequest import settings
from ckanext.statrequest.core import workflow as wflib
from ckanext.statrequest.lib import access, records
from ckanext.statrequest.model import Request
from ckanext.statrequest.model.opd_task import ANSWERED, ASKED, CLOSED, NO_DATA, SETTLED, OpdTask
from ckanext.statrequest.model.statements import built_once

__all__ = ["ANSWERED", "ASKED", "CLOSED", "NO_DATA", "SETTLED", "OpdTask"]

OVERDUE = "overdue"  # shown, never stored
# events of the timeline that are no workflow step (labels: logic/dictization.event_dict)
CLOSE_EVENT, REMINDER_EVENT, ESCALATION_EVENT = (
    "opd_task_close", "opd_task_reminder", "opd_task_escalation")


def opd_state(wf: wflib.Workflow, state: str) -> bool:
    found = wf.states.get(state)
    return found is not None and found.holder == access.OPD


def answers(t: wflib.Transition, wf: wflib.Workflow, state: str) -> bool:
    """Whether firing `t` from `state` is an OPD's answer (its own, or filed on its behalf)."""
    return opd_state(wf, state) and (t.actor == access.OPD or bool(t.on_behalf_of_opd))


def carries_files(t: wflib.Transition) -> bool:
    return any(r.kind == "files" for r in t.requires)


def tasks(request_id: str) -> list[OpdTask]:
    return list(model.Session.scalars(_tasks_statement(), {"request_id": request_id}))


@built_once
def _tasks_statement() -> Any:
    return (select(OpdTask).where(OpdTask.request_id == bindparam("request_id"))
            .order_by(OpdTask.asked_at, OpdTask.organization_id))


def due_for(request: Request, asked_at: dt.datetime) -> dt.datetime:
    """`opd_task_days` working days after asking, capped by the request's deadline."""
    due = settings.calendar().add_working_days(asked_at, settings.opd_task_days())
    return min(due, request.sla_due_at) if request.sla_due_at else due


def _reset(task: OpdTask, request: Request, now: dt.datetime,
           due: dt.datetime | None = None) -> None:
    task.status, task.asked_at, task.due = ASKED, now, due or due_for(request, now)
    task.answered_at = task.reminded_at = task.escalated_at = None
    task.closed_reason, task.closed_by, task.closed_at = "", None, None


def ask(request: Request, org_ids: list[str], now: dt.datetime) -> None:
    """Routing: a new (or renewed) task for each of these OPD (one query for those that
    exist, one calendar: the same deadline for all)."""
    existing = {t.organization_id: t for t in tasks(request.id)}
    due = due_for(request, now)
    for org_id in org_ids:
        task = existing.get(org_id)
        if task is None:
            task = OpdTask(request_id=request.id, organization_id=org_id)
            model.Session.add(task)
        _reset(task, request, now, due)


def reasks(t: wflib.Transition, wf: wflib.Workflow, state: str) -> bool:
    """Whether firing `t` from `state` sends the request back to OPD already asked (the
    results did not match): into an OPD state from another one, routing to no new OPD."""
    return (opd_state(wf, t.target_of(state)) and not opd_state(wf, state)
            and not t.needs("opd"))


def reask_default(found: list[OpdTask]) -> list[str]:
    """Who is asked again unless staff choose: the OPD whose answers were checked (answered),
    not those that had no data or were closed; every one when none answered."""
    answered = [t.organization_id for t in found if t.status == ANSWERED]
    return answered or [t.organization_id for t in found]


def reask_refused(request: Request, org_ids: list[str], routed: frozenset[str]) -> str | None:
    """Why these OPD cannot be asked again on this request, or None: each must have a task
    on it (an old request without tasks: be routed to it)."""
    known = {t.organization_id for t in tasks(request.id)} or set(routed)
    if not set(org_ids) <= known:
        return tk._("This request was not sent to that agency (OPD).")
    return None


def ask_again(request: Request, now: dt.datetime, org_ids: list[str] | None = None
              ) -> list[str]:
    """The request is back with the OPD (e.g. the results did not match): the tasks of
    `org_ids` (default: `reask_default`) anew, with a new deadline; the others keep their
    status. Returns the OPD asked again."""
    found = tasks(request.id)
    if not found:  # routed where no OPD was asked: every routed OPD is asked now
        org_ids = org_ids or sorted(access.routed_org_ids(request.id))
        if org_ids:
            ask(request, org_ids, now)
        return sorted(org_ids)
    chosen = set(org_ids or reask_default(found))
    due = due_for(request, now)
    for task in found:
        if task.organization_id in chosen:
            _reset(task, request, now, due)
    return sorted(chosen)


def extend(request: Request, days: int, now: dt.datetime
           ) -> list[tuple[OpdTask, dt.datetime | None]]:
    """The request's deadline was extended by `days` working days (`request.sla_due_at` is
    the new one): every open task's deadline moves as much, still capped by the request's.
    A task whose new deadline is ahead is reminded and escalated afresh. Returns the moved
    tasks with their deadline before."""
    calendar = settings.calendar()
    moved: list[tuple[OpdTask, dt.datetime | None]] = []
    for task in tasks(request.id):
        if task.status != ASKED:
            continue
        before = task.due
        # office time, so a deadline at closing time lands on the closing time `days` later
        due = (calendar.add_working_time(before, calendar.day_length * days) if before
               else request.sla_due_at)
        if due is not None and request.sla_due_at is not None:
            due = min(due, request.sla_due_at)
        if due is None or due == before:
            continue
        task.due = due
        if due > now:
            task.reminded_at = task.escalated_at = None
        moved.append((task, before))
    return moved


def answering_org(request: Request, t: wflib.Transition, v: access.View,
                  inputs: dict[str, Any]) -> str | None:
    """The OPD whose task this answer settles (None: no task involved: a request put in an
    OPD state outside the workflow's steps; every routed OPD has a task since migration
    0018). An OPD member of several routed OPD answers for the first one whose task is
    still open."""
    wf = settings.workflow()
    if not answers(t, wf, request.state):
        return None
    if t.on_behalf_of_opd:
        candidates = list(inputs.get("opd") or [])[:1]
    else:
        candidates = sorted(v.actor.opd_ids & v.routed)
    by_org = {task.organization_id: task for task in tasks(request.id)}
    if not by_org:
        return None
    for org_id in candidates:
        if by_org.get(org_id) is not None and by_org[org_id].status == ASKED:
            return org_id
    return candidates[0] if candidates else None


def answer_refused(request: Request, org_id: str | None) -> str | None:
    """Why this OPD may not answer (again) now, or None."""
    if org_id is None:
        return None
    task = model.Session.get(OpdTask, (request.id, org_id))
    if task is None:
        return tk._("This request was not sent to that agency (OPD).")
    if task.status != ASKED:
        return tk._("This agency (OPD) has already answered this request.")
    return None


def onward(wf: wflib.Workflow, state: str, statuses: list[str]) -> str:
    """Where the request goes once every task is settled, by the YAML: the answering step
    with files when at least one OPD answered, else the one without (no data)."""
    steps = [t for t in wf.transitions.values()
             if state in t.sources and answers(t, wf, state) and not t.objection]
    with_files = [t for t in steps if carries_files(t)]
    without = [t for t in steps if not carries_files(t)]
    chosen = (with_files or without) if ANSWERED in statuses else (without or with_files)
    if not chosen:
        raise RuntimeError(f"workflow: no answering step leaves the OPD state {state!r}")
    return chosen[0].target_of(state)


def settle(request: Request, org_id: str, status: str, now: dt.datetime,
           user_id: str | None = None, reason: str = "") -> str:
    """Settle one OPD's task (in the caller's transaction); return the state the request goes
    to: where it is while other tasks are open, else onward by the YAML."""
    wf = settings.workflow()
    task = model.Session.get(OpdTask, (request.id, org_id))
    assert task is not None
    task.status = status
    if status == CLOSED:
        task.closed_reason, task.closed_by, task.closed_at = reason, user_id, now
    else:
        task.answered_at = now
    all_tasks = tasks(request.id)
    model.Session.flush()
    if any(t.status == ASKED for t in all_tasks):
        return request.state
    return onward(wf, request.state, [t.status for t in all_tasks])


def shown_status(task: OpdTask, now: dt.datetime) -> str:
    if task.status == ASKED and task.due is not None and now > task.due:
        return OVERDUE
    return task.status


def status_label(status: str) -> str:
    return {
        ASKED: tk._("Asked"), ANSWERED: tk._("Answered"), NO_DATA: tk._("No data"),
        CLOSED: tk._("Closed by staff"), OVERDUE: tk._("Overdue"),
    }.get(status, status)


def may_close(actor: access.Actor, request: Request) -> bool:
    """The assigned staff member and those above the staff position (by the YAML's
    `superior:` chain); sysadmins too (CKAN's rule for auth functions)."""
    wf = settings.workflow()
    if actor.sysadmin:
        return True
    if request.assignee_id and actor.user_id == request.assignee_id:
        return True
    above = set(wf.escalation_chain(wf.assignee_position)) if wf.assignee_position else set()
    return bool(above & set(actor.positions))


def task_rows(request: Request, v: access.View, now: dt.datetime) -> list[dict[str, Any]]:
    """The task table of the request page: officials see every row, an OPD its own; the
    requester none (the request's own state says it waits for the agencies)."""
    if not (v.internal or v.is_routed_opd):
        return []
    rows: list[dict[str, Any]] = []
    found = tasks(request.id)
    if not found:
        return rows
    again = set(reask_default(found))  # asked again by default when the results do not match
    # the OPD's names as the view read them with the request (a task's OPD is routed)
    names = {o.id: o.title or o.name for o in v.links or ()}
    missing = [t.organization_id for t in found if t.organization_id not in names]
    if missing:
        names.update((g.id, g.title or g.name) for g in model.Session.scalars(
            select(model.Group).where(model.Group.id.in_(missing))))
    for task in found:
        if not v.internal and task.organization_id not in v.actor.opd_ids:
            continue
        status = shown_status(task, now)
        rows.append({
            "organization_id": task.organization_id,
            "organization": names.get(task.organization_id, task.organization_id),
            "status": status, "status_label": status_label(status),
            "open": task.status == ASKED,
            "asked_at": _iso(task.asked_at), "due": _iso(task.due),
            "answered_at": _iso(task.answered_at), "reminded_at": _iso(task.reminded_at),
            "escalated_at": _iso(task.escalated_at),
            "closed_reason": task.closed_reason if v.internal else "",
            "reask": task.organization_id in again,
        })
    return rows


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- reminders and escalation (`ckan statrequest sla-check`) ----------------------------------

OPD_REMINDER, OPD_ESCALATION = "opd_task_reminder", "opd_task_escalation"  # mail kinds
OPD_EXTENDED = "opd_task_extended"  # the request's deadline was extended: the new task date


def org_admins(org_id: str) -> list[model.User]:
    """Admins and editors of one OPD (who answer for it)."""
    return list(model.Session.scalars(
        select(model.User).distinct()
        .join(model.Member, model.Member.table_id == model.User.id)
        .where(model.Member.group_id == org_id, model.Member.table_name == "user",
               model.Member.state == "active",
               model.Member.capacity.in_(access.OPD_CAPACITIES), model.User.state == "active")
        .order_by(model.User.id)).all())


def sla_check(now: dt.datetime) -> dict[str, int]:
    """An open task due within a working day: its OPD's admins are reminded (once). An
    overdue one: the assigned staff member and the staff position's superior are told (once).
    Both recorded on the task and as an internal event of the request."""
    from ckanext.statrequest.lib import notifications as n
    from ckanext.statrequest.model import Event

    wf, calendar = settings.workflow(), settings.calendar()
    horizon = calendar.add_working_time(now, calendar.day_length * settings.due_soon_days())
    opd_states = wf.states_waiting_for([access.OPD])
    rows = model.Session.execute(
        select(OpdTask, Request).join(Request, Request.id == OpdTask.request_id)
        .where(OpdTask.status == ASKED, OpdTask.due.is_not(None), OpdTask.due <= horizon,
               Request.state.in_(opd_states),
               (OpdTask.reminded_at.is_(None)) | ((OpdTask.due < now) & OpdTask.escalated_at.is_(None)))
        .order_by(OpdTask.due)).all()
    result = {"opd_reminders": 0, "opd_escalations": 0}
    superiors = wf.escalation_chain(wf.assignee_position)[:1] if wf.assignee_position else []
    for task, request in rows:
        org = model.Session.get(model.Group, task.organization_id)
        title = (org.title or org.name) if org else task.organization_id
        messages: list[n.Message] = []
        events = []
        extra = {"opd": title, "task_due": n.when(task.due, "id")}
        # one reminder and one escalation per asking and deadline (an extension moves it)
        cause = f"{request.id}:{task.organization_id}:{task.asked_at.isoformat()}:{task.due.isoformat()}"
        if task.reminded_at is None:
            key = f"opd-reminder:{cause}"
            for r in n._unique([n.user_recipient(u) for u in org_admins(task.organization_id)]):
                messages.append(n._message(OPD_REMINDER, key, r, request, wf,
                                           **extra | {"task_due": n.when(task.due, r.language),
                                                      "overdue": now > task.due}))
            task.reminded_at = now
            events.append(REMINDER_EVENT)
        if now > task.due and task.escalated_at is None:
            key = f"opd-escalation:{cause}"
            people = [model.User.get(request.assignee_id)] if request.assignee_id else []
            for position in superiors:
                people += n.position_holders(position)
            for r in n._unique([n.user_recipient(u) for u in people]):
                messages.append(n._message(OPD_ESCALATION, key, r, request, wf,
                                           **extra | {"task_due": n.when(task.due, r.language)}))
            task.escalated_at = now
            events.append(ESCALATION_EVENT)
        version = request.version
        try:
            for name in events:  # each event of the timeline has its own version
                version = records.guarded_update(request.id, version, {})
                model.Session.add(Event(
                    request_id=request.id, actor_id=None, actor_role="system", acting=False,
                    transition=name, from_state=request.state, to_state=request.state, note="",
                    visibility="internal",
                    data={"opd_task": {"organization_id": task.organization_id}},
                    version=version, created_at=now))
            ids = n.save(messages)
        except records.StaleVersion:  # somebody acted on it meanwhile: the next run
            model.Session.rollback()
            continue
        result["opd_reminders"] += sum(1 for m in messages if m.kind == OPD_REMINDER) if ids else 0
        result["opd_escalations"] += sum(1 for m in messages if m.kind == OPD_ESCALATION) \
            if ids else 0
        n.enqueue_all(ids)
    return result


def extension_messages(request: Request, event: Any,
                       moved: list[tuple[OpdTask, dt.datetime | None]]) -> list[Any]:
    """The mail telling each OPD whose task moved with the extension its new date."""
    from ckanext.statrequest.lib import notifications as n

    wf = settings.workflow()
    days = (event.data or {}).get("extension_days")
    messages = []
    for task, before in moved:
        org = model.Session.get(model.Group, task.organization_id)
        title = (org.title or org.name) if org else task.organization_id
        key = f"event:{event.id}:{task.organization_id}"
        for r in n._unique([n.user_recipient(u) for u in org_admins(task.organization_id)]):
            messages.append(n._message(
                OPD_EXTENDED, key, r, request, wf, opd=title, days=days, note=event.note,
                task_due=n.when(task.due, r.language), task_due_before=n.when(before, r.language)))
    return messages


def stage_extension(request: Request, event: Any,
                    moved: list[tuple[OpdTask, dt.datetime | None]]) -> list[int]:
    """`extension_messages` in the extension's own transaction (sent whatever
    `notify.officials` says: a deadline changed); the ids to enqueue after the commit."""
    from ckanext.statrequest.lib import notifications as n

    if not moved:
        return []
    return n._stage(lambda: extension_messages(request, event, moved),
                    f"the OPD task deadlines of request {request.id}")


def may_answer(request: Request, t: wflib.Transition, v: access.View) -> bool:
    """Whether the answering step `t` is still open to this viewer: some task it could settle
    is asked (an OPD: one of its own). Other steps, and requests without tasks: True."""
    wf = settings.workflow()
    if not answers(t, wf, request.state):
        return True
    all_tasks = tasks(request.id)
    if not all_tasks:
        return True
    mine = all_tasks if t.on_behalf_of_opd else [
        task for task in all_tasks if task.organization_id in v.actor.opd_ids]
    return any(task.status == ASKED for task in mine)


def open_for(organization_ids: frozenset[str] | Any):
    """SQL condition (inbox): one of these OPD's tasks on the request is open.

    It implies that the request was routed to that OPD: a task is asked only of a routed OPD
    (`ask` right after the routing marks the link; `ask_again` re-asks tasks or asks the
    routed OPD; migration 0018 gave every routed OPD its task). So the inbox needs no
    routing condition beside it, which made PostgreSQL hash every link of the OPD (116k at
    1M) instead of starting from its few hundred open tasks."""
    from sqlalchemy import exists

    return exists().where(OpdTask.request_id == Request.id,
                          OpdTask.organization_id.in_(organization_ids), OpdTask.status == ASKED)
