"""Objections (keberatan) against a request's answer: filing, the signed decision, reading
(their names: `logic.api.ACTIONS["objection"]`).

The steps are the workflow's `objection: file` and `objection: decide` transitions; the rules
(grounds, periods, the decision letter) are in `ckanext.statrequest.lib.objection`. An
objection has its own state and deadline; the request, its reply letter and its figures stay as
they were. Each step is an event of the request (public: the requester sees it and is mailed).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ckanext.statrequest import settings
from ckanext.statrequest.core import workflow as wflib
from ckanext.statrequest.core.vocabulary import OBJECTION_DECISIONS
from ckanext.statrequest.lib import access, attachments, letters, notifications, records
from ckanext.statrequest.lib import objection as lib
from ckanext.statrequest.lib.texts import lang
from ckanext.statrequest.logic import common
from ckanext.statrequest.logic import dictization as dz
from ckanext.statrequest.logic.schema import objection as schema
from ckanext.statrequest.model import Event, Objection, Request
from ckanext.statrequest.model import now as now_utc

_ = tk._


def _allowed_step(t: wflib.Transition | None, state: str, v: access.View) -> wflib.Transition:
    """The step, if this caller may take it from `state`; else a clear 403 or 400."""
    if t is None:
        raise tk.ValidationError({"objection": [_("This portal takes no objections.")]})
    try:
        return settings.workflow().check(state, t.name, v.roles())
    except wflib.TransitionNotAllowed as exc:
        if exc.reason == wflib.WRONG_ACTOR:
            raise tk.NotAuthorized(_("You may not do this on this request.")) from exc
        raise tk.ValidationError({"objection": [_(
            "This is not possible in the objection's current state.")]}) from exc


def _event(request: Request, actor: access.Actor, t: wflib.Transition, from_state: str,
           note: str, data: dict[str, Any], at: dt.datetime) -> Event:
    """The step as an event of the request; the version bump makes a concurrent step on the
    same request fail instead of interleaving."""
    version = records.guarded_update(request.id, request.version, {"updated_at": at})
    event = Event(request_id=request.id, actor_id=actor.user_id, actor_role=t.actor,
                  acting=False, transition=t.name, from_state=from_state, to_state=t.target,
                  note=note, visibility=t.visibility, data=data, version=version,
                  created_at=at)
    model.Session.add(event)
    model.Session.flush()
    return event


def statrequest_objection_create(context: dict[str, Any], data_dict: dict[str, Any]
                                 ) -> dict[str, Any]:
    """The requester objects to the answer (UU 14/2008 Pasal 35).

    :param id: the request; :param grounds: codes of `vocabulary.OBJECTION_GROUNDS` (a list
        or comma-separated), each one the answer gives cause for
    :param reason: the requester's own words; :param token: a guest's link token
    :returns: the objection, with its decision deadline
    """
    data, request = common.target("statrequest_objection_create", context, data_dict,
                                  schema.objection_create(), common.get_request,
                                  passed=("token",))
    actor = access.context_actor(context)
    v = access.view(actor, request, data.get("token"))
    if not v.is_requester:  # checked here too: CKAN lets sysadmins pass auth functions
        raise tk.NotAuthorized(_("Only the requester may object to the answer."))
    now = now_utc()
    refused = lib.refusal(request, lib.step("file"), now)  # the plainest reason first
    if refused:
        raise tk.ValidationError({"objection": [refused]})
    t = _allowed_step(lib.step("file"), request.state, v)
    allowed = lib.open_grounds(request)
    if any(code not in allowed for code in data["grounds"]):
        raise tk.ValidationError({"grounds": [_(
            "Choose only grounds that apply to this answer: %(grounds)s")
            % {"grounds": "; ".join(lib.ground_labels(allowed, lang()))}]})
    decide = lib.step("decide")
    due = settings.calendar().due_date(now, decide.days if decide else t.days)
    row = Objection(request_id=request.id, state=t.target, grounds=data["grounds"],
                    reason=data["reason"], filed_by=actor.user_id, filed_at=now, due_at=due,
                    decision_reason="", escalated_days=0)
    try:
        model.Session.add(row)
        model.Session.flush()
        event = _event(request, actor, t, request.state, data["reason"],
                       {"objection": row.id, "grounds": data["grounds"]}, now)
        outbox = notifications.stage_objection(request, event, due)
        model.Session.commit()
    except (IntegrityError, records.StaleVersion):  # filed at the same moment by another call
        model.Session.rollback()
        raise tk.ValidationError({"objection": [_(
            "An objection to this request was already filed.")]}) from None
    except Exception:
        model.Session.rollback()
        raise
    letters.after_commit(request.id, t.name, outbox)
    return dz.objection_dict(row, request, settings.workflow())


def statrequest_objection_decide(context: dict[str, Any], data_dict: dict[str, Any]
                                 ) -> dict[str, Any]:
    """The superior decides the objection (Pasal 36) with a letter signed by their own key.

    :param id: the request; :param decision: diterima (upheld) | ditolak (rejected)
    :param reason: the grounds of the decision (printed on the letter)
    :param passphrase: the signing passphrase or PIN (never stored)
    :returns: the objection, with its decision letter
    """
    data, request = common.target("statrequest_objection_decide", context, data_dict,
                                  schema.objection_decide(), common.get_request)
    row = lib.of_request(request.id)
    if row is None:
        raise tk.ObjectNotFound(_("There is no objection to this request."))
    actor = access.context_actor(context)
    v = access.view(actor, request)
    t = _allowed_step(lib.step("decide"), row.state, v)
    now = now_utc()
    written = attachments.Written()
    try:
        # only one decision: the state moves once, whoever comes second finds it moved
        moved = model.Session.execute(
            update(Objection).where(Objection.id == row.id, Objection.state == row.state)
            .values(state=t.target).returning(Objection.id)
            .execution_options(synchronize_session=False)).scalar_one_or_none()
        if moved is None:
            raise records.StaleVersion(request.id)
        from_state = row.state
        model.Session.refresh(row)
        row.decision, row.decision_reason = data["decision"], data["reason"]
        row.decided_by, row.decided_at = actor.user_id, now
        letter, signer = lib.sign_decision(request, row, t.actor, data["passphrase"], written,
                                           actor.user_id)
        event = _event(request, actor, t, from_state, data["reason"], {
            "objection": row.id, "decision": row.decision, "letter": letter.id,
            "letter_sha256": letter.sha256, "signer": signer}, now)
        outbox = notifications.stage_objection(request, event, row.due_at, row.decision)
        model.Session.commit()
    except records.StaleVersion:
        model.Session.rollback()
        written.discard()
        raise tk.ValidationError({"objection": [_(
            "This objection was already decided. Reload the page.")]}) from None
    except Exception:
        model.Session.rollback()
        written.discard()
        raise
    letters.after_commit(request.id, t.name, outbox)
    return dz.objection_dict(row, request, settings.workflow(), v.audience)


@tk.side_effect_free
def statrequest_objection_show(context: dict[str, Any], data_dict: dict[str, Any]
                               ) -> dict[str, Any]:
    """The request's objection (None when there is none) and, for the requester, whether one
    can be filed now: the grounds that apply and the end of the filing period."""
    data, request = common.target("statrequest_objection_show", context, data_dict,
                                  schema.objection_show(), common.get_request, passed=("token",))
    v = access.view(access.context_actor(context), request, data.get("token"))
    wf, language = settings.workflow(), lang()
    row = lib.of_request(request.id)
    t = lib.step("file", wf)
    deadline = lib.filing_deadline(request, t, settings.calendar()) if t else None
    refused = lib.refusal(request, t, now_utc())
    decide = lib.step("decide", wf)
    return {
        "objection": dz.objection_dict(row, request, wf, v.audience) if row else None,
        "enabled": t is not None,
        "can_file": v.is_requester and refused is None,
        "refusal": refused,
        "filing_deadline": dz.iso(deadline),
        "grounds": [{"code": c, "label": label} for c, label in
                    zip(lib.open_grounds(request),
                        lib.ground_labels(lib.open_grounds(request), language), strict=True)],
        "can_decide": bool(row is not None and decide is not None
                           and row.state in decide.sources and decide.actor in v.roles()),
        "decisions": [{"code": c, "label": lib.decision_label(c, language)}
                      for c in OBJECTION_DECISIONS],
    }


@tk.side_effect_free
def statrequest_objection_list(context: dict[str, Any], data_dict: dict[str, Any]
                               ) -> dict[str, Any]:
    """Open objections, most urgent first; `waiting_for_me`: only those the caller decides."""
    data = common.authorized("statrequest_objection_list", context, data_dict,
                             schema.objection_list())
    wf = settings.workflow()
    decide = lib.step("decide", wf)
    if decide is None:
        return {"count": 0, "results": []}
    states = list(decide.sources)
    if data.get("waiting_for_me"):
        mine = set(wf.states_waiting_for(access.context_actor(context).positions))
        states = [s for s in states if s in mine]
    open_ = (Objection.state.in_(states), Objection.decided_at.is_(None))
    stmt = select(Objection, Request).join(Request, Request.id == Objection.request_id).where(*open_)
    rows = model.Session.execute(
        stmt.order_by(Objection.due_at, Objection.id)
        .limit(int(data.get("limit") or 20)).offset(int(data.get("offset") or 0))).all()
    count = model.Session.scalar(select(func.count()).select_from(Objection).where(*open_))
    return {"count": count,
            "results": [dz.objection_dict(o, r, wf, access.context_actor(context).audience)
                        for o, r in rows]}
