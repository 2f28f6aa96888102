"""The blank data request form offered for download beside the form's upload field: the
regency's own file when `ckanext.statrequest.data_form_file` names one, else a PDF rendered under
the agency's letterhead from the fields the online form asks."""
from __future__ import annotations

import logging
import mimetypes
from functools import lru_cache
from pathlib import Path

import ckantoolkit as tk

from ckanext.statrequest import settings
from ckanext.statrequest.lib import letters
from ckanext.statrequest.lib.texts import lang

log = logging.getLogger(__name__)


def configured_file() -> Path | None:
    """The regency's own blank form, if configured and readable (else the rendered one is
    offered and the problem logged, rather than a broken link)."""
    value = settings.get("data_form_file") or ""
    if not value:
        return None
    path = Path(value)
    if not path.is_file():
        log.error("ckanext.statrequest.data_form_file: no such file %s", path)
        return None
    return path


def download() -> tuple[bytes, str, str]:
    """(content, media type, file name) of the blank form in the user's language."""
    own = configured_file()
    if own is not None:
        media = mimetypes.guess_type(own.name)[0] or "application/octet-stream"
        return own.read_bytes(), media, own.name
    language = "en" if lang() == "en" else "id"
    name = "data-request-form.pdf" if language == "en" else "formulir-permintaan-data.pdf"
    return _rendered(language, settings.get("letter.address", "")), "application/pdf", name


@lru_cache(maxsize=4)
def _rendered(language: str, _letterhead_key: str) -> bytes:
    """Rendered once per language (and letterhead) per process: the form does not change."""
    from ckanext.statrequest.documents import blankform

    _ = tk._
    form = blankform.BlankForm(
        title=_("Data request form"),
        intro=_("Sectoral statistical data request service. Fill in this form, sign it, and "
                "upload it with your request letter and proof of identity. The service is free "
                "of charge."),
        sections=[
            (_("Requester"), [(_("Full name"), 1), (_("Identity number (NIK)"), 1),
                              (_("Institution"), 1), (_("Address"), 2), (_("Phone"), 1),
                              (_("Email"), 1)]),
            (_("Data requested"), [(_("Title of the data"), 2), (_("Description"), 3),
                                   (_("Period (years, months)"), 1),
                                   (_("Breakdown (e.g. per district)"), 1),
                                   (_("Preferred format (e.g. CSV, XLSX)"), 1),
                                   (_("Purpose of use"), 2)]),
        ],
        signature={"place_date": _("Place, date") + ": ....................",
                   "signer": _("Requester"), "name": "( ................................ )"},
        footer=_("Submit it online at the portal's data request page, or hand it in at the "
                 "service counter."),
    )
    return blankform.render(letters.letterhead(), form)
