"""Template helpers."""
from __future__ import annotations

import ckantoolkit as tk

from ckanext.statrequest import texts

__all__ = ["statrequest_text", "statrequest_sla_days"]


def statrequest_text(section: str) -> str:
    """A landing-page text: the configured override for the user's language, else ours."""
    return texts.landing_text(section, tk.h.lang())


def statrequest_sla_days() -> int:
    return tk.config.get("ckanext.statrequest.sla_days")
