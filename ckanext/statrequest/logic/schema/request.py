"""One schema per action; forms and the API are validated by the same rules."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.logic import validators as v

IDENTITY_TYPES = ["nik", "paspor", "nip", "lainnya"]
CATEGORIES = ["instansi_pemerintah", "masyarakat_umum", "dunia_usaha"]
POSITION_KINDS = ["definitif", "plt", "plh"]
HOLIDAY_KINDS = ["cuti_bersama", "libur_daerah", "libur_lain", "hari_kerja"]


def _get(name: str):
    return tk.get_validator(name)


def create() -> dict[str, Any]:
    not_empty, ignore_missing = _get("not_empty"), _get("ignore_missing")
    one_of, email = _get("one_of"), _get("email_validator")
    return {
        "requester_name": [not_empty, v.statrequest_text(200)],
        "identity_type": [not_empty, one_of(IDENTITY_TYPES)],
        "identity_number": [not_empty, v.statrequest_identity_number],
        "institution": [ignore_missing, v.statrequest_text(200)],
        "category": [not_empty, one_of(CATEGORIES)],
        "email": [not_empty, v.statrequest_text(254), email],
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
        # uploads are checked by ckanext.statrequest.attachments (type by bytes, size)
        "identity_document": [ignore_missing],
        "request_letter": [ignore_missing],
        "data_form": [ignore_missing],
    }


def by_id() -> dict[str, Any]:
    return {"id": [_get("not_empty"), v.statrequest_text(64)],
            "token": [_get("ignore_missing"), v.statrequest_text(200)]}


def transition() -> dict[str, Any]:
    not_empty, ignore_missing = _get("not_empty"), _get("ignore_missing")
    return {
        "id": [not_empty, v.statrequest_text(64)],
        "transition": [not_empty, v.statrequest_text(64)],
        "version": [not_empty, v.statrequest_int(0, v.MAX_VERSION)],
        "token": [ignore_missing, v.statrequest_text(200)],
        "note": [ignore_missing, v.statrequest_text(4000)],
        "instruction": [ignore_missing, v.statrequest_text(4000)],
        "assignee": [ignore_missing, v.statrequest_user_id],
        "opd": [ignore_missing, v.statrequest_organization_list],
        "outcome": [ignore_missing, _get("one_of")(["dipenuhi", "dipenuhi_sebagian", "ditolak"])],
        "dataset": [ignore_missing, v.statrequest_dataset_list],
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
    ignore_missing, one_of = _get("ignore_missing"), _get("one_of")
    return {
        "state": [ignore_missing, v.statrequest_id_list],
        "waiting_for_me": [ignore_missing, _get("boolean_validator")],
        "organization": [ignore_missing, v.statrequest_organization_list],
        "requester": [ignore_missing, v.statrequest_user_id],
        "category": [ignore_missing, one_of(CATEGORIES)],
        "sla": [ignore_missing, one_of(["overdue", "due_soon", "on_time"])],
        "q": [ignore_missing, v.statrequest_text(200)],
        "created_from": [ignore_missing, v.statrequest_date],
        "created_to": [ignore_missing, v.statrequest_date],
        "sort": [ignore_missing, one_of(["urgency", "newest", "oldest", "due"])],
        "limit": [ignore_missing, v.statrequest_int(0, v.MAX_LIMIT)],
        "offset": [ignore_missing, v.statrequest_int(0, v.MAX_OFFSET)],
    }


def attachment_create() -> dict[str, Any]:
    not_empty = _get("not_empty")
    return {
        "id": [not_empty, v.statrequest_text(64)],
        "kind": [not_empty, _get("one_of")(
            ["identity_document", "request_letter", "data_form", "result"])],
        "upload": [not_empty],
    }


def position_assign() -> dict[str, Any]:
    not_empty, ignore_missing = _get("not_empty"), _get("ignore_missing")
    return {
        "position": [not_empty, v.statrequest_text(64)],
        "user": [not_empty, v.statrequest_user_id],
        "valid_from": [ignore_missing, v.statrequest_date],
        "valid_to": [ignore_missing, v.statrequest_date],
        "acting": [ignore_missing, _get("boolean_validator")],  # older form of kind=plt
        "kind": [ignore_missing, _get("one_of")(POSITION_KINDS)],
        "stands_in_for": [ignore_missing, v.statrequest_user_id],
        "note": [ignore_missing, v.statrequest_text(500)],
        "nip": [ignore_missing, v.statrequest_text(30)],
        "rank": [ignore_missing, v.statrequest_text(100)],  # pangkat/golongan
    }


def position_list() -> dict[str, Any]:
    ignore_missing = _get("ignore_missing")
    return {
        "position": [ignore_missing, v.statrequest_text(64)],
        "user": [ignore_missing, v.statrequest_user_id],
        "include_inactive": [ignore_missing, _get("boolean_validator")],
    }


def holiday_create() -> dict[str, Any]:
    not_empty = _get("not_empty")
    return {
        "day": [not_empty, v.statrequest_date],
        "name": [not_empty, v.statrequest_text(200)],
        "kind": [not_empty, _get("one_of")(HOLIDAY_KINDS)],
    }


def holiday_delete() -> dict[str, Any]:
    return {"day": [_get("not_empty"), v.statrequest_date]}


def holiday_list() -> dict[str, Any]:
    return {"year": [_get("ignore_missing"), v.statrequest_year]}


def override() -> dict[str, Any]:
    not_empty = _get("not_empty")
    return {
        "id": [not_empty, v.statrequest_text(64)],
        "state": [not_empty, v.statrequest_text(64)],
        "version": [not_empty, v.statrequest_int(0, v.MAX_VERSION)],
        "note": [not_empty, v.statrequest_text(4000)],
    }


def track() -> dict[str, Any]:
    not_empty = _get("not_empty")
    return {
        "tracking_number": [not_empty, v.statrequest_text(40)],
        "email": [not_empty, v.statrequest_text(254)],
    }
