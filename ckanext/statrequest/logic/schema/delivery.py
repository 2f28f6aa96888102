"""Schemas of the delivery actions: letter verification, open publication, and the checks
put before CKAN's own `member_list`."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.logic import validators as v
from ckanext.statrequest.logic.schema import reference


def verify() -> dict[str, Any]:
    ignore_missing = tk.get_validator("ignore_missing")
    # the upload is read and judged by the action itself (bytes, size, signatures)
    return {"id": [ignore_missing, v.statrequest_text(64)], "upload": [ignore_missing]}


def publish_consent() -> dict[str, Any]:
    return reference()


def publish_open() -> dict[str, Any]:
    not_empty, ignore_missing = tk.get_validator("not_empty"), tk.get_validator("ignore_missing")
    return reference() | {
        "organization": [not_empty, v.statrequest_text(v.MAX_ID)],
        "title": [ignore_missing, v.statrequest_text(200)],
        "notes": [ignore_missing, v.statrequest_text(4000)],
        "license_id": [ignore_missing, v.statrequest_text(v.MAX_ID)],
    }


def member_list() -> dict[str, Any]:
    """CKAN's member_list compares these with text columns unchecked (a NUL was a 500)."""
    ignore_missing = tk.get_validator("ignore_missing")
    return {
        "id": [tk.get_validator("not_empty"), v.statrequest_text(v.MAX_ID)],
        "object_type": [ignore_missing, v.statrequest_text(20)],
        "capacity": [ignore_missing, v.statrequest_text(20)],
    }
