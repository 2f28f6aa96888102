"""Schemas of the operations actions (notifications, purges; one per action)."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.logic import validators as v
from ckanext.statrequest.logic.schema import reference

# a week of minutes; a century of days: beyond that a number can only be a typing mistake
MAX_AGE_MINUTES = 7 * 24 * 60
MAX_RETENTION_DAYS = 36_500


def notifications_flush() -> dict[str, Any]:
    return {"min_age_minutes": [tk.get_validator("ignore_missing"), v.statrequest_int(0, MAX_AGE_MINUTES)]}


def purge_spam() -> dict[str, Any]:
    return {"user": [tk.get_validator("not_empty"), v.statrequest_text(v.MAX_ID),
                     tk.get_validator("user_id_or_name_exists")]}


def purge_personal_data() -> dict[str, Any]:
    return {
        "older_than_days": [tk.get_validator("ignore_missing"), v.statrequest_int(0, MAX_RETENTION_DAYS)],
        "dry_run": [tk.get_validator("ignore_missing"), tk.get_validator("boolean_validator")],
    }


def identity_access_list() -> dict[str, Any]:
    return reference()
