"""The blank data request form (formulir permintaan data) a requester prints, fills in by hand
or on screen, signs and uploads with the request (the service standard asks for it).

Rendered from a trusted template under the agency's own letterhead; every label comes from the
caller (already translated), so this module stays free of CKAN.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from weasyprint import CSS, HTML

from .letter import ASSETS_DIR, AssetURLFetcher, LetterHead, LetterRenderError, _env, head_context


@dataclass(frozen=True)
class BlankForm:
    title: str
    intro: str
    # (section heading, [(field label, lines to write on)])
    sections: Sequence[tuple[str, Sequence[tuple[str, int]]]]
    signature: Mapping[str, str]  # place_date, signer, name
    footer: str


def render(head: LetterHead, form: BlankForm) -> bytes:
    """The form as a PDF (A4), letterhead on top."""
    html = _env().get_template("blank_form.html").render(form=form, **head_context(head))
    fetcher = AssetURLFetcher()
    base_url = ASSETS_DIR.as_uri() + "/"
    css = (ASSETS_DIR.parent / "templates" / "letter.css").read_text(encoding="utf-8")
    pdf = HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf(
        stylesheets=[CSS(string=css, base_url=base_url, url_fetcher=fetcher)])
    if fetcher.blocked or not isinstance(pdf, bytes):
        raise LetterRenderError("the blank form could not be rendered")
    return pdf
