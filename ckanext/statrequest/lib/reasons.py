"""Reasons for refusals, partial answers and missing data: which step asks for one, when it
is required, how it is stored and how it reads.

The list is `settings.reasons()` (the configured one, else `core.vocabulary.REASONS`). A
reason is kept as its code in the data of the step's event, with its labels as they were at
that moment, so a later change of the configured list does not rewrite a request's history.
The reason of a request is the one of the event that decided its outcome (the last event that
set one): a draft that comes back and is decided again carries the new decision's reason.
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import bindparam, select

from ckanext.statrequest import settings
from ckanext.statrequest.core.vocabulary import OUTCOMES_WITH_REASON, REFUSED
from ckanext.statrequest.core.workflow import OPD, Transition
from ckanext.statrequest.model import Event
from ckanext.statrequest.model.statements import built_once

_ = tk._

REQUIRED, OPTIONAL = "required", "optional"


def offered(t: Transition) -> str | None:
    """Whether a step asks for a reason: `required` when it refuses (a fixed outcome
    `ditolak`), `optional` when the outcome is chosen in the step (then required for a
    refusal, see `errors`) or when an agency answers without data; None otherwise."""
    if t.outcome == REFUSED:
        return REQUIRED
    if t.outcome in OUTCOMES_WITH_REASON or t.needs("outcome"):
        return OPTIONAL
    if t.actor == OPD and not t.needs("files"):
        return OPTIONAL
    return None


def errors(t: Transition, outcome: str | None, code: str | None) -> dict[str, list[str]]:
    """What is wrong with the reason given (or not given) to step `t` deciding `outcome`."""
    if not code:
        if outcome == REFUSED:
            return {"reason": [_("Choose the reason for the refusal.")]}
        return {}
    if offered(t) is None:
        return {"reason": [_("This step does not take a reason.")]}
    if code not in settings.reasons():
        return {"reason": [_("Unknown reason: choose one from the list.")]}
    if outcome and outcome not in OUTCOMES_WITH_REASON:
        return {"reason": [_("A reason is given only when the request is refused or only "
                             "partly fulfilled.")]}
    return {}


def event_data(code: str | None) -> dict[str, Any]:
    """What an event keeps of the reason given with its step."""
    if not code:
        return {}
    indonesian, english = settings.reasons()[code]
    return {"reason": code, "reason_label": {"id": indonesian, "en": english}}


def label(code: str, language: str, stored: dict[str, str] | None = None) -> str:
    """A reason in `language` (id or en): from the current list, else as it was stored,
    else its code."""
    known = settings.reasons().get(code)
    if known:
        return known[1] if language == "en" else known[0]
    stored = stored or {}
    return stored.get(language) or stored.get("id") or code


def choices(language: str) -> list[tuple[str, str]]:
    """The list for a form's select, in the list's order."""
    return [(code, label(code, language)) for code in settings.reasons()]


@built_once
def _decision_statement() -> Any:
    """The data of the request's last event that set an outcome."""
    return (select(Event.data)
            .where(Event.request_id == bindparam("request_id"), Event.data.has_key("outcome"))
            .order_by(Event.id.desc()).limit(1))


def of_request(request_id: str) -> dict[str, Any] | None:
    """The reason of the decision on a request: {"code", "label": {"id", "en"}}, or None."""
    data = model.Session.scalar(_decision_statement(), {"request_id": request_id})
    if not data or not data.get("reason"):
        return None
    code = data["reason"]
    stored = data.get("reason_label") or {}
    return {"code": code, "label": {lang: label(code, lang, stored) for lang in ("id", "en")}}
