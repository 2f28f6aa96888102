"""Schemas of the delivery actions: letter verification and open publication."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.logic import validators as v


def _get(name: str):
    return tk.get_validator(name)


def verify() -> dict[str, Any]:
    ignore_missing = _get("ignore_missing")
    # the upload is read and judged by the action itself (bytes, size, signatures)
    return {"id": [ignore_missing, v.statrequest_text(64)], "upload": [ignore_missing]}


def publish_consent() -> dict[str, Any]:
    return {"id": [_get("not_empty"), v.statrequest_text(64)]}


def publish_open() -> dict[str, Any]:
    not_empty, ignore_missing = _get("not_empty"), _get("ignore_missing")
    return {
        "id": [not_empty, v.statrequest_text(64)],
        "organization": [not_empty, v.statrequest_text(v.MAX_ID)],
        "title": [ignore_missing, v.statrequest_text(200)],
        "notes": [ignore_missing, v.statrequest_text(4000)],
        "license_id": [ignore_missing, v.statrequest_text(v.MAX_ID)],
    }
