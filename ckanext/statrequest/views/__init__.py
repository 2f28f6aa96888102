"""Flask blueprints of the extension, one module per area; CKAN collects `__all__`."""
from __future__ import annotations

from ckanext.statrequest.views.landing import statrequest

__all__ = ["statrequest"]
