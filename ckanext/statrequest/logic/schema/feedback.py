"""Schemas of the survey and complaint actions (one per action, like logic/schema.py)."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.logic import validators as v
from ckanext.statrequest.model.feedback import COMPLAINT_STATES, ELEMENTS

_ = tk._


def _get(name: str):
    return tk.get_validator(name)


def statrequest_score(value: Any) -> int:
    """One answer of the SKM survey: 1 (worst) to 4 (best)."""
    text = str(value).strip() if value is not None else ""
    if text not in ("1", "2", "3", "4"):
        raise tk.Invalid(_("Choose an answer from 1 to 4."))
    return int(text)


def survey_submit() -> dict[str, Any]:
    not_empty = _get("not_empty")
    return {
        "id": [not_empty, v.statrequest_text(64)],
        **{u: [not_empty, statrequest_score] for u in ELEMENTS},
        "comment": [_get("ignore_missing"), v.statrequest_text(2000)],
    }


def survey_show() -> dict[str, Any]:
    return {"id": [_get("not_empty"), v.statrequest_text(64)]}


def complaint_create() -> dict[str, Any]:
    not_empty, ignore_missing = _get("not_empty"), _get("ignore_missing")
    return {
        "subject": [not_empty, v.statrequest_text(200)],
        "body": [not_empty, v.statrequest_text(4000)],
        "request": [ignore_missing, v.statrequest_text(64)],
    }


def complaint_show() -> dict[str, Any]:
    return {"id": [_get("not_empty"), v.statrequest_text(64)]}


def complaint_list() -> dict[str, Any]:
    ignore_missing = _get("ignore_missing")
    return {
        "state": [ignore_missing, _get("one_of")(list(COMPLAINT_STATES))],
        "mine": [ignore_missing, _get("boolean_validator")],
        "limit": [ignore_missing, v.statrequest_int(0, v.MAX_LIMIT)],
        "offset": [ignore_missing, v.statrequest_int(0, v.MAX_OFFSET)],
    }


def complaint_respond() -> dict[str, Any]:
    ignore_missing = _get("ignore_missing")
    return {
        "id": [_get("not_empty"), v.statrequest_text(64)],
        "response": [ignore_missing, v.statrequest_text(4000)],
        "close": [ignore_missing, _get("boolean_validator")],
    }
