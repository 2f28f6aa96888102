"""The extension's API: the actions of each feature, one module per feature, named once in
`ckanext.statrequest.logic.api` (a module's ``__all__`` adds the CKAN actions it chains).
Registered by the plugin from :func:`get_actions`."""
from __future__ import annotations

from typing import Any

from ckanext.statrequest.logic import api
from ckanext.statrequest.logic.action import (
    delivery,
    feedback,
    objection,
    opd,
    operations,
    reception,
    request,
    signing,
    stats,
)

FEATURES = {"request": request, "operations": operations, "delivery": delivery,
            "signing": signing, "feedback": feedback, "stats": stats, "reception": reception,
            "objection": objection, "opd": opd}


def get_actions() -> dict[str, Any]:
    return api.registry(FEATURES)
