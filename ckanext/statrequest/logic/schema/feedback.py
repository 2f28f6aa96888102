"""Schemas of the survey and complaint actions (one per action, as in logic/schema/request.py)."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.core.vocabulary import COMPLAINT_CHANNELS, COMPLAINT_ONLINE
from ckanext.statrequest.logic import validators as v
from ckanext.statrequest.logic.schema import reference
from ckanext.statrequest.model.feedback import COMPLAINT_STATES, ELEMENTS

_ = tk._


def statrequest_score(value: Any) -> int:
    """One answer of the SKM survey: 1 (worst) to 4 (best)."""
    text = str(value).strip() if value is not None else ""
    if text not in ("1", "2", "3", "4"):
        raise tk.Invalid(_("Choose an answer from 1 to 4."))
    return int(text)


def survey_submit() -> dict[str, Any]:
    not_empty = tk.get_validator("not_empty")
    return reference() | {
        **{u: [not_empty, statrequest_score] for u in ELEMENTS},
        "comment": [tk.get_validator("ignore_missing"), v.statrequest_text(2000)],
    }


def survey_show() -> dict[str, Any]:
    return reference()


def complaint_create() -> dict[str, Any]:
    not_empty, ignore_missing = tk.get_validator("not_empty"), tk.get_validator("ignore_missing")
    return {
        "subject": [not_empty, v.statrequest_text(200)],
        "body": [not_empty, v.statrequest_text(4000)],
        "request": [ignore_missing, v.statrequest_text(64)],
    }


# the channels the front desk records; the portal is the complainant's own
COUNTER_CHANNELS = [c for c in COMPLAINT_CHANNELS if c != COMPLAINT_ONLINE]


def complaint_record() -> dict[str, Any]:
    """A complaint received at the counter, by letter, email or phone. That a way to reach the
    complainant is given, and the date is not in the future, the action checks (they depend
    on two fields, and on the office's clock)."""
    not_empty, ignore_missing = tk.get_validator("not_empty"), tk.get_validator("ignore_missing")
    return complaint_create() | {
        "channel": [not_empty, tk.get_validator("one_of")(COUNTER_CHANNELS)],
        "complainant_name": [not_empty, v.statrequest_text(200)],
        "complainant_email": [ignore_missing, v.statrequest_email],
        "complainant_phone": [ignore_missing, v.statrequest_phone],
        "received_at": [not_empty, v.statrequest_date],
    }


def complaint_show() -> dict[str, Any]:
    return reference()


def complaint_list() -> dict[str, Any]:
    ignore_missing = tk.get_validator("ignore_missing")
    return {
        "state": [ignore_missing, tk.get_validator("one_of")(list(COMPLAINT_STATES))],
        "channel": [ignore_missing, tk.get_validator("one_of")(list(COMPLAINT_CHANNELS))],
        "overdue": [ignore_missing, tk.get_validator("boolean_validator")],
        "mine": [ignore_missing, tk.get_validator("boolean_validator")],
        "limit": [ignore_missing, v.statrequest_int(0, v.MAX_LIMIT)],
        "offset": [ignore_missing, v.statrequest_int(0, v.MAX_OFFSET)],
    }


def complaint_respond() -> dict[str, Any]:
    ignore_missing = tk.get_validator("ignore_missing")
    return reference() | {
        "response": [ignore_missing, v.statrequest_text(4000)],
        "close": [ignore_missing, tk.get_validator("boolean_validator")],
    }
