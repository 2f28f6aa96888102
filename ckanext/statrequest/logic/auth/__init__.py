"""Who may call each action: one module per feature, mirroring ``logic/action``, plus
``files`` (CKAN's own file API on a request's files). Registered by the plugin from
:func:`get_auth_functions`."""
from __future__ import annotations

from typing import Any

from ckanext.statrequest.logic.auth import (
    delivery,
    feedback,
    files,
    operations,
    request,
    signing,
    stats,
)

FEATURES = (request, operations, delivery, signing, feedback, stats, files)


def get_auth_functions() -> dict[str, Any]:
    return {name: getattr(module, name) for module in FEATURES for name in module.__all__}
