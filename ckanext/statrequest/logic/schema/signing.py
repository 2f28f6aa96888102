"""Schemas of the signing-credential actions."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.core.vocabulary import CREDENTIAL_BACKENDS
from ckanext.statrequest.logic import validators as v
from ckanext.statrequest.logic.schema import reference


def credential_set() -> dict[str, Any]:
    get = tk.get_validator
    not_empty, ignore_missing = get("not_empty"), get("ignore_missing")
    return {
        "user": [not_empty, v.statrequest_user_id],
        "backend": [not_empty, get("one_of")(list(CREDENTIAL_BACKENDS))],
        # PKCS#12: a file name in the signing folder; PKCS#11: the token label; remote: NIK
        "reference": [not_empty, v.statrequest_text(200)],
        "key_label": [ignore_missing, v.statrequest_text(100)],
        "cert_label": [ignore_missing, v.statrequest_text(100)],
        # the person's certificate (PEM text or an uploaded .pem/.crt), checked at signing
        "certificate": [ignore_missing],
    }


def credential_list() -> dict[str, Any]:
    get = tk.get_validator
    return {
        "user": [get("ignore_missing"), v.statrequest_user_id],
        "include_revoked": [get("ignore_missing"), get("boolean_validator")],
    }


def credential_revoke() -> dict[str, Any]:
    return reference()
