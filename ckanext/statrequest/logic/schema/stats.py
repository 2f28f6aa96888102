"""Schemas of the statistics actions (one per action, as in logic/schema/request.py)."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.logic import validators as v

_ = tk._

# kept under its old name for callers of this module
statrequest_year = v.statrequest_year


def _period() -> dict[str, Any]:
    ignore_missing = tk.get_validator("ignore_missing")
    return {
        "year": [ignore_missing, v.statrequest_year],
        "date_from": [ignore_missing, v.statrequest_date],
        "date_to": [ignore_missing, v.statrequest_date],
    }


def stats() -> dict[str, Any]:
    return _period()


def stats_public() -> dict[str, Any]:
    return _period()


def stats_export() -> dict[str, Any]:
    return _period() | {
        "format": [tk.get_validator("default")("csv"), tk.get_validator("one_of")(["csv", "xlsx"])],
        "include_personal": [tk.get_validator("ignore_missing"), tk.get_validator("boolean_validator"),
                             no_personal_data],
    }


def no_personal_data(value: Any) -> Any:
    """Exports used to offer personal columns; asking for them now gets a clear answer."""
    if value is True:
        raise tk.Invalid(_("Exports never contain personal data (name, identity number, "
                           "email, phone, address). A requester's details are shown on the "
                           "request's page to those allowed to see them."))
    return value
