"""Schemas of the OPD task actions (parallel OPD tasks, issue #12)."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.lib.records import MAX_REF
from ckanext.statrequest.logic import validators as v
from ckanext.statrequest.logic.schema import reference


def task_close() -> dict[str, Any]:
    not_empty = tk.get_validator("not_empty")
    return reference() | {
        "organization": [not_empty, v.statrequest_text(MAX_REF)],
        "reason": [not_empty, v.statrequest_text(2000)],
        "version": [not_empty, v.statrequest_int(0, v.MAX_VERSION)],
    }
