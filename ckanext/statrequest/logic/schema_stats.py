"""Schemas of the statistics actions (one per action, like logic/schema.py)."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

_ = tk._


def _get(name: str):
    return tk.get_validator(name)


def statrequest_year(value: Any) -> Any:
    """A calendar year the service could have records for."""
    if value is tk.missing or value in (None, ""):
        return tk.missing
    text = str(value).strip()
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise tk.Invalid(_("Enter a year between 2000 and 2100."))
    return int(text)


def _period() -> dict[str, Any]:
    ignore_missing = _get("ignore_missing")
    return {
        "year": [ignore_missing, statrequest_year],
        "date_from": [ignore_missing, _get("isodate")],
        "date_to": [ignore_missing, _get("isodate")],
    }


def stats() -> dict[str, Any]:
    return _period()


def stats_public() -> dict[str, Any]:
    return _period()


def stats_export() -> dict[str, Any]:
    return _period() | {
        "format": [_get("default")("csv"), _get("one_of")(["csv", "xlsx"])],
        "include_personal": [_get("default")(False), _get("boolean_validator")],
    }
