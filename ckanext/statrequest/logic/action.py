"""Action functions of the statrequest API (CKAN naming: statrequest_*)."""
from __future__ import annotations

__all__: list[str] = []
