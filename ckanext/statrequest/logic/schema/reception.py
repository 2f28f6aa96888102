"""Schemas of the front desk: registering a request received by letter, email or in person,
and reading the incoming-letter register. The requester's and the request's fields are those
of a portal submission (`schema.request.create`)."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.core import vocabulary
from ckanext.statrequest.logic import validators as v
from ckanext.statrequest.logic.schema import request


def register() -> dict[str, Any]:
    not_empty, ignore_missing = tk.get_validator("not_empty"), tk.get_validator("ignore_missing")
    fields = request.create()
    # the person at the counter gives an email or a phone number (checked together by the
    # action); consent is theirs on the paper form, the officer does not tick it for them
    del fields["consent_personal_data"]
    return fields | {
        "email": [ignore_missing, v.statrequest_email],
        "channel": [not_empty, tk.get_validator("one_of")(list(vocabulary.DESK_CHANNELS))],
        "received_on": [not_empty, v.statrequest_date],
        "sender_letter_number": [ignore_missing, v.statrequest_text(100)],
        "sender_letter_date": [ignore_missing, v.statrequest_date],
    }


def register_list() -> dict[str, Any]:
    ignore_missing = tk.get_validator("ignore_missing")
    one_of = tk.get_validator("one_of")
    return {
        "received_from": [ignore_missing, v.statrequest_date],
        "received_to": [ignore_missing, v.statrequest_date],
        "channel": [ignore_missing, one_of(list(vocabulary.RECEPTION_CHANNELS))],
        "state": [ignore_missing, v.statrequest_text(64)],
        "limit": [ignore_missing, v.statrequest_int(0, v.MAX_LIMIT)],
        "offset": [ignore_missing, v.statrequest_int(0, v.MAX_OFFSET)],
    }


def register_export() -> dict[str, Any]:
    fields = register_list()
    del fields["limit"], fields["offset"]
    return fields
