"""Actions, auth functions, schemas and validators of the extension."""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def include_areas(prefix: str, namespace: dict[str, Any]) -> None:
    """Add the `__all__` of every `logic/<prefix>_<area>.py` module to `namespace`.

    Lets each area (delivery, notifications, statistics...) keep its actions and auth
    functions in a module of its own, while CKAN's blanket still reads one module.
    """
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith(prefix + "_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            for name in getattr(module, "__all__", []):
                namespace[name] = getattr(module, name)
                namespace["__all__"].append(name)
