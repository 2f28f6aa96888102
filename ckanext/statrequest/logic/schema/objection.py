"""Schemas of the objection actions (keberatan): filing, deciding, reading."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.core.vocabulary import OBJECTION_DECISIONS, OBJECTION_GROUNDS
from ckanext.statrequest.logic import validators as v
from ckanext.statrequest.logic.schema import reference

_ = tk._


def statrequest_objection_grounds(value: Any) -> list[str]:
    """One or more codes of the grounds list (a list, or comma-separated), each once."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    if len(items) > len(OBJECTION_GROUNDS):
        raise tk.Invalid(_("Choose the grounds from the list."))
    codes = [str(item).strip() for item in items if str(item).strip()]
    if not codes or any(code not in OBJECTION_GROUNDS for code in codes):
        raise tk.Invalid(_("Choose the grounds from the list."))
    return list(dict.fromkeys(codes))


def objection_create() -> dict[str, Any]:
    not_empty, ignore_missing = tk.get_validator("not_empty"), tk.get_validator("ignore_missing")
    return reference() | {
        "grounds": [not_empty, statrequest_objection_grounds],
        "reason": [not_empty, v.statrequest_text(4000)],
        "token": [ignore_missing, v.statrequest_text(200)],
    }


def objection_decide() -> dict[str, Any]:
    not_empty = tk.get_validator("not_empty")
    return reference() | {
        "decision": [not_empty, tk.get_validator("one_of")(list(OBJECTION_DECISIONS))],
        "reason": [not_empty, v.statrequest_text(4000)],
        # never stored or logged: handed to the signer and dropped
        "passphrase": [not_empty, v.statrequest_secret(1024)],
    }


def objection_show() -> dict[str, Any]:
    return reference() | {"token": [tk.get_validator("ignore_missing"), v.statrequest_text(200)]}


def objection_list() -> dict[str, Any]:
    ignore_missing = tk.get_validator("ignore_missing")
    return {
        "waiting_for_me": [ignore_missing, tk.get_validator("boolean_validator")],
        "limit": [ignore_missing, v.statrequest_int(0, 100)],
        "offset": [ignore_missing, v.statrequest_int(0, v.MAX_OFFSET)],
    }
