"""The extension's API: the actions of each feature, one module per feature, each listing its
actions in ``__all__``. Registered by the plugin from :func:`get_actions`."""
from __future__ import annotations

from typing import Any

from ckanext.statrequest.logic.action import delivery, feedback, operations, request, signing, stats

# request: submit, read, transition, files, positions, holidays, workflow, tracking
# operations: dashboards, exports, identity-access log; delivery: results, letters, publication
# signing: credentials and signatures; feedback: surveys and complaints; stats: reports
FEATURES = (request, operations, delivery, signing, feedback, stats)


def get_actions() -> dict[str, Any]:
    return {name: getattr(module, name) for module in FEATURES for name in module.__all__}
