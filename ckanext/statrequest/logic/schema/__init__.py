"""Validation schemas of the actions, one module per feature (as ``logic/action``), and the
field every action on one object shares."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.lib.records import MAX_REF
from ckanext.statrequest.logic import validators as v


def reference() -> dict[str, Any]:
    """The object an action is about: ``id``, its id (or number), as long as a reference that
    can name a row (`ckanext.statrequest.lib.records.row`)."""
    return {"id": [tk.get_validator("not_empty"), v.statrequest_text(MAX_REF)]}
