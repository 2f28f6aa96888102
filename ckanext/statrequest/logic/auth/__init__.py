"""Who may call each action: one module per feature, mirroring ``logic/action``, plus
``files`` (CKAN's own file API on a request's files) and ``pages`` (pages that are no
single action). Each action's auth function has the action's name, listed once in
`ckanext.statrequest.logic.api`; a module's ``__all__`` lists only what it adds (the CKAN
auth functions it chains, the rights of pages). Registered by the plugin from
:func:`get_auth_functions`."""
from __future__ import annotations

from typing import Any

from ckanext.statrequest.logic import api
from ckanext.statrequest.logic.auth import (
    delivery,
    feedback,
    files,
    objection,
    opd,
    operations,
    pages,
    reception,
    request,
    signing,
    stats,
)

FEATURES = {"request": request, "operations": operations, "delivery": delivery,
            "signing": signing, "feedback": feedback, "stats": stats, "files": files,
            "pages": pages, "reception": reception,
            "objection": objection, "opd": opd}


def get_auth_functions() -> dict[str, Any]:
    return api.registry(FEATURES)
