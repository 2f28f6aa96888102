"""Flask blueprints of the extension, one module per area; CKAN collects `__all__`."""
from __future__ import annotations

import importlib
import pkgutil

from flask import Blueprint

__all__: list[str] = []

for _info in pkgutil.iter_modules(__path__):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name, _value in vars(_module).items():
        if isinstance(_value, Blueprint) and _value.name not in __all__:
            globals()[_value.name] = _value
            __all__.append(_value.name)
