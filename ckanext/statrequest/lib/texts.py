"""Texts of the public landing page that a portal may replace through its config, and the
language of the current page.

Each section has a default text (translated through CKAN's i18n) and two optional overrides:
``ckanext.statrequest.text.<section>`` (the portal's default language, Indonesian) and
``ckanext.statrequest.text.<section>.en`` (English).
"""
from __future__ import annotations

import ckantoolkit as tk

from ckanext.statrequest import settings

SECTIONS = ("intro", "complaint", "contact")


def lang() -> str:
    """The language of the current page; outside a web request (CLI, jobs) the portal's
    default language."""
    try:
        return tk.h.lang() or settings.core("ckan.locale_default")
    except (RuntimeError, AttributeError, TypeError):  # no web request
        return settings.core("ckan.locale_default")


def _defaults() -> dict[str, str]:
    # Built on each call so the strings are translated in the user's current language.
    return {
        "intro": tk._(
            "Layanan Permintaan Data Statistik Sektoral helps citizens, businesses and "
            "government agencies obtain sectoral statistical data that is not yet published "
            "on this portal. The Communications and Informatics Agency (Diskominfo) collects "
            "the data from the agency that owns it and sends you an electronically signed reply."
        ),
        "complaint": tk._(
            "Not satisfied with the service? Submit a complaint (pengaduan) about your request "
            "from its tracking page, or contact Diskominfo directly. Every complaint is recorded "
            "and answered."
        ),
        "contact": tk._("Diskominfo service desk, open Monday to Friday during office hours."),
    }


def landing_text(section: str, lang: str | None) -> str:
    if section not in SECTIONS:
        raise ValueError(f"unknown landing text section: {section}")
    key = f"text.{section}"
    override = settings.get(f"{key}.en") if lang == "en" else None
    override = override or (settings.get(key) if lang != "en" else None)
    return override or _defaults()[section]
