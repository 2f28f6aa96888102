"""Auth functions, one per action."""
from __future__ import annotations

__all__: list[str] = []
