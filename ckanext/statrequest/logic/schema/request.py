"""Schemas of the request actions, one per action; forms and the API are validated by the
same rules. Code lists come from `ckanext.statrequest.core.vocabulary`."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.core import vocabulary
from ckanext.statrequest.lib import attachments
from ckanext.statrequest.logic import validators as v
from ckanext.statrequest.logic.schema import reference


def create() -> dict[str, Any]:
    not_empty, ignore_missing = tk.get_validator("not_empty"), tk.get_validator("ignore_missing")
    one_of = tk.get_validator("one_of")
    return {
        "requester_name": [not_empty, v.statrequest_text(200)],
        "identity_type": [not_empty, one_of(list(vocabulary.IDENTITY_TYPES))],
        "identity_number": [not_empty, v.statrequest_identity_number],
        "institution": [ignore_missing, v.statrequest_text(200)],
        "category": [not_empty, one_of(list(vocabulary.REQUESTER_CATEGORIES))],
        "email": [not_empty, v.statrequest_email],
        "phone": [ignore_missing, v.statrequest_phone],
        "address": [ignore_missing, v.statrequest_text(500)],
        "title": [not_empty, v.statrequest_text(200)],
        "description": [not_empty, v.statrequest_text(4000)],
        "period": [ignore_missing, v.statrequest_text(100)],
        "breakdown": [ignore_missing, v.statrequest_text(200)],
        "data_format": [ignore_missing, v.statrequest_text(100)],
        "purpose": [not_empty, v.statrequest_text(2000)],
        "dataset_ids": [ignore_missing, v.statrequest_dataset_list],
        "organization_ids": [ignore_missing, v.statrequest_organization_list],
        "consent_personal_data": [not_empty, v.statrequest_true],
        # uploads are checked by ckanext.statrequest.lib.attachments (type by bytes, size)
        "identity_document": [ignore_missing],
        "request_letter": [ignore_missing],
        "data_form": [ignore_missing],
    }


def correction() -> dict[str, Any]:
    """The fields a correction may change, with the rules of a submission."""
    rules = create()
    return {name: rules[name] for name in vocabulary.CORRECTABLE_FIELDS}


def update() -> dict[str, Any]:
    """A correction as sent: only the fields it changes (each checked as on submission)."""
    not_empty, ignore_missing = tk.get_validator("not_empty"), tk.get_validator("ignore_missing")
    return reference() | {
        "version": [not_empty, v.statrequest_int(0, v.MAX_VERSION)],
        "token": [ignore_missing, v.statrequest_text(200)],
    } | {name: [ignore_missing, *rules] for name, rules in correction().items()}


def by_id() -> dict[str, Any]:
    """A request or file by id; `token`: a guest's link; `masked`: the identity number masked
    for a page that does not show it (then nobody is recorded as having seen it)."""
    ignore_missing = tk.get_validator("ignore_missing")
    return reference() | {"token": [ignore_missing, v.statrequest_text(200)],
                          "masked": [ignore_missing, tk.get_validator("boolean_validator")]}


def transition() -> dict[str, Any]:
    not_empty, ignore_missing = tk.get_validator("not_empty"), tk.get_validator("ignore_missing")
    return reference() | {
        "transition": [not_empty, v.statrequest_text(64)],
        "version": [not_empty, v.statrequest_int(0, v.MAX_VERSION)],
        "token": [ignore_missing, v.statrequest_text(200)],
        "note": [ignore_missing, v.statrequest_text(4000)],
        "instruction": [ignore_missing, v.statrequest_text(4000)],
        "assignee": [ignore_missing, v.statrequest_user_id],
        "opd": [ignore_missing, v.statrequest_organization_list],
        "outcome": [ignore_missing, tk.get_validator("one_of")(list(vocabulary.OUTCOMES))],
        # a code of settings.reasons(); the transition checks it against the list and the step
        "reason": [ignore_missing, v.statrequest_text(64)],
        "dataset": [ignore_missing, v.statrequest_dataset_list],
        # how data an OPD sent outside the portal arrived (an upload on the OPD's behalf)
        "channel": [ignore_missing, tk.get_validator("one_of")(list(vocabulary.DATA_CHANNELS))],
        "attachment_ids": [ignore_missing, v.statrequest_id_list],
        # never stored or logged: handed to the signer and dropped
        "passphrase": [ignore_missing, v.statrequest_secret(1024)],
        "files": [ignore_missing],
        "identity_document": [ignore_missing],
        "request_letter": [ignore_missing],
        "data_form": [ignore_missing],
        "result": [ignore_missing],
    }


def list_() -> dict[str, Any]:
    ignore_missing, one_of = tk.get_validator("ignore_missing"), tk.get_validator("one_of")
    return {
        "state": [ignore_missing, v.statrequest_id_list],
        "waiting_for_me": [ignore_missing, tk.get_validator("boolean_validator")],
        "organization": [ignore_missing, v.statrequest_organization_list],
        "requester": [ignore_missing, v.statrequest_user_id],
        "category": [ignore_missing, one_of(list(vocabulary.REQUESTER_CATEGORIES))],
        "sla": [ignore_missing, one_of(["overdue", "due_soon", "on_time"])],
        "q": [ignore_missing, v.statrequest_text(200)],
        "created_from": [ignore_missing, v.statrequest_date],
        "created_to": [ignore_missing, v.statrequest_date],
        "sort": [ignore_missing, one_of(["urgency", "newest", "oldest", "due"])],
        "limit": [ignore_missing, v.statrequest_int(0, v.MAX_LIMIT)],
        "offset": [ignore_missing, v.statrequest_int(0, v.MAX_OFFSET)],
    }


def attachment_create() -> dict[str, Any]:
    not_empty = tk.get_validator("not_empty")
    return reference() | {
        "kind": [not_empty, tk.get_validator("one_of")([*attachments.REQUESTER_KINDS, "result"])],
        "upload": [not_empty],
    }


def attachment_delete() -> dict[str, Any]:
    # reason: a sysadmin's repair says why the file must go
    return by_id() | {"reason": [tk.get_validator("ignore_missing"), v.statrequest_text(1000)]}


def position_assign() -> dict[str, Any]:
    not_empty, ignore_missing = tk.get_validator("not_empty"), tk.get_validator("ignore_missing")
    return {
        "position": [not_empty, v.statrequest_text(64)],
        "user": [not_empty, v.statrequest_user_id],
        "valid_from": [ignore_missing, v.statrequest_date],
        "valid_to": [ignore_missing, v.statrequest_date],
        "acting": [ignore_missing, tk.get_validator("boolean_validator")],  # older form of kind=plt
        "kind": [ignore_missing, tk.get_validator("one_of")(list(vocabulary.POSITION_KINDS))],
        "stands_in_for": [ignore_missing, v.statrequest_user_id],
        "note": [ignore_missing, v.statrequest_text(500)],
        "nip": [ignore_missing, v.statrequest_text(30)],
        "rank": [ignore_missing, v.statrequest_text(100)],  # pangkat/golongan
    }


def position_list() -> dict[str, Any]:
    ignore_missing = tk.get_validator("ignore_missing")
    return {
        "position": [ignore_missing, v.statrequest_text(64)],
        "user": [ignore_missing, v.statrequest_user_id],
        "include_inactive": [ignore_missing, tk.get_validator("boolean_validator")],
    }


def holiday_create() -> dict[str, Any]:
    not_empty = tk.get_validator("not_empty")
    return {
        "day": [not_empty, v.statrequest_date],
        "name": [not_empty, v.statrequest_text(200)],
        "kind": [not_empty, tk.get_validator("one_of")(list(vocabulary.HOLIDAY_KINDS))],
    }


def holiday_delete() -> dict[str, Any]:
    return {"day": [tk.get_validator("not_empty"), v.statrequest_date]}


def holiday_list() -> dict[str, Any]:
    return {"year": [tk.get_validator("ignore_missing"), v.statrequest_year]}


def override() -> dict[str, Any]:
    not_empty = tk.get_validator("not_empty")
    return reference() | {
        "state": [not_empty, v.statrequest_text(64)],
        "version": [not_empty, v.statrequest_int(0, v.MAX_VERSION)],
        "note": [not_empty, v.statrequest_text(4000)],
    }


def track() -> dict[str, Any]:
    not_empty = tk.get_validator("not_empty")
    return {
        "tracking_number": [not_empty, v.statrequest_text(40)],
        "email": [not_empty, v.statrequest_text(254)],
    }
