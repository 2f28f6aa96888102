"""Render the reply letter (surat balasan) to PDF/A-3b with WeasyPrint.

Plain Python: no CKAN or Flask here, so actions and background jobs can both call it.

Security model: the template is trusted, everything in :class:`LetterData` is not. User values
are only ever inserted as autoescaped Jinja text, and WeasyPrint gets a deny-by-default URL
fetcher (:class:`AssetURLFetcher`) that serves ``data:`` URIs and files inside this package's
``assets/`` folder, and aborts the render for anything else (``http:``, ``file:///etc/passwd``...).

Fonts: Liberation Serif / Sans / Mono are taken from the system via fontconfig (Debian
``fonts-liberation2``); nothing is copied into the package.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import mimetypes
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import jinja2
import segno
from weasyprint import CSS, HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .layout import ANCHOR_IDS, PARAF1, PARAF2, FieldBox, SignatureLayout

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
TEMPLATES_DIR = PACKAGE_DIR / "templates"

Outcome = Literal["dipenuhi", "dipenuhi_sebagian", "ditolak"]
OUTCOMES: tuple[str, ...] = ("dipenuhi", "dipenuhi_sebagian", "ditolak")

BSRE_STATEMENT = (
    "Dokumen ini telah ditandatangani secara elektronik menggunakan sertifikat elektronik yang "
    "diterbitkan oleh Balai Besar Sertifikasi Elektronik (BSrE), Badan Siber dan Sandi Negara."
)
# Names by which BSrE appears in its CA certificates (old and new naming).
_BSRE_MARKERS = ("bsre", "balai sertifikasi elektronik", "balai besar sertifikasi elektronik")
RECORD_NAME = "record.json"
RECORD_FORMAT = "ckanext-statrequest/letter-record@1"
PDF_VARIANT = "pdf/a-3b"

_MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_CSS_PX_TO_PT = 0.75  # WeasyPrint lays out in CSS px (96/in); PDF user space is points (72/in).


class LetterRenderError(Exception):
    """The letter could not be rendered (bad data, a blocked resource, a layout problem)."""


class BlockedURLError(FatalURLFetchingError):
    """Raised by the URL fetcher for any URL outside the allow-list. Aborts the render."""


@dataclass(frozen=True)
class LetterHead:
    """Kop surat. ``logo`` is image bytes (PNG/JPEG/SVG) or a file name inside ``assets/``."""

    # e.g. ("Pemerintah Kabupaten Ketapang", "Dinas Komunikasi dan Informatika")
    name_lines: Sequence[str]
    address: str
    phone: str = ""
    email: str = ""
    website: str = ""
    logo: bytes | str | None = "logo-default.svg"


@dataclass(frozen=True)
class DeliveredFile:
    name: str
    size: int  # bytes
    sha256: str  # lowercase hex


@dataclass
class LetterData:
    letterhead: LetterHead
    letter_number: str
    place: str
    date: dt.date
    hal: str  # subject line ("Hal")
    addressee_name: str
    outcome: Outcome
    requested_data_title: str
    request_number: str  # tracking number of the request on the portal
    request_date: dt.date  # date of the requester's letter / submission
    # title of the signing position, shown in the draft mark; the signature block itself
    # (name, Plt./Plh./a.n., NIP, date) is the final signature's appearance (SignatureBlock)
    signer_position: str  # e.g. "Kepala Dinas Komunikasi dan Informatika Kabupaten Ketapang"
    verification_url: str  # QR target
    addressee_institution: str = ""
    addressee_address: str = ""
    lampiran: str | None = None  # None: "<n> berkas" from files, or "-"
    sifat: str = "Biasa"
    reason: str = ""  # required for dipenuhi_sebagian and ditolak
    files: Sequence[DeliveredFile] = ()
    tembusan: Sequence[str] = ()
    paraf1_title: str = "Kepala Bidang Statistik"
    paraf2_title: str = "Sekretaris"
    request_letter_number: str = ""
    record: Mapping[str, Any] = field(default_factory=dict)  # attached as record.json
    # datasets already on the portal an OPD answered with (lib/linked_dataset.py): title, url,
    # resources (name with sha256, or kind "tautan" with url)
    datasets: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class SignatureBlock:
    """What the final signature shows: known only when the signer actually signs.

    Permendagri 1/2023: "a.n." (on behalf of) above the signer's own title, "Plt."/"Plh."
    before it for an acting official, then name, pangkat/golongan and NIP of the person who
    signed. ``date`` is the letter's date: the day of this signature.
    """

    place: str
    date: dt.date
    title: str  # the signer's position title
    signer_name: str
    verification_url: str  # QR target
    acting: str = ""  # "Plt." / "Plh."
    on_behalf_of: str = ""  # title of the position signed for ("a.n."), if any
    rank: str = ""  # pangkat/golongan, e.g. "Pembina Utama Muda (IV/c)"
    nip: str = ""
    issuer_statement: str = ""  # see issuer_statement()


@dataclass(frozen=True)
class ParafMark:
    """What a paraf box shows: who initialled, and when (local time)."""

    name: str
    when: dt.datetime
    acting: str = ""  # "Plt." / "Plh."
    zone: str = ""  # e.g. "WIB"


@dataclass(frozen=True)
class RenderedLetter:
    pdf: bytes
    layout: SignatureLayout
    sha256: str


# --- URL fetcher --------------------------------------------------------------------------------


class AssetURLFetcher(URLFetcher):
    """Deny-by-default fetcher: ``data:`` URIs and regular files under ``assets_dir`` only."""

    def __init__(self, assets_dir: Path = ASSETS_DIR) -> None:
        super().__init__(timeout=5, allowed_protocols=("data", "file"), allow_redirects=False,
                         fail_on_errors=True)
        self._assets = assets_dir.resolve()
        # WeasyPrint swallows even fatal errors inside SVG drawing; remember every refusal so
        # the render can be failed afterwards no matter where the fetch came from.
        self.blocked: list[str] = []

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            parts = urlsplit(url)
            if parts.netloc in ("", "localhost"):
                # resolve() follows symlinks and '..', so the containment check is on the real path.
                path = Path(unquote(parts.path)).resolve()
                if path.is_relative_to(self._assets) and path.is_file():
                    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
        self.blocked.append(url[:200])
        raise BlockedURLError(f"URL not allowed in letters: {url[:200]}")


# --- helpers ------------------------------------------------------------------------------------


def format_tanggal(value: dt.date | dt.datetime) -> str:
    """``12 Maret 2026``."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def format_ukuran(size: int) -> str:
    """Human file size with an Indonesian decimal comma: ``1,5 MB``."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            text = f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
            return text.replace(".", ",")
        value /= 1024
    raise AssertionError("unreachable")


def _sniff_image(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    head = data[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg")) or b"<svg" in head:
        return "image/svg+xml"
    raise LetterRenderError("logo must be PNG, JPEG or SVG")


def _logo_src(logo: bytes | str | None) -> str | None:
    if logo is None or logo == "":
        return None
    if isinstance(logo, bytes):
        mime = _sniff_image(logo)
        return f"data:{mime};base64,{base64.b64encode(logo).decode('ascii')}"
    path = (ASSETS_DIR / logo).resolve()
    if not path.is_relative_to(ASSETS_DIR) or not path.is_file():
        raise LetterRenderError(f"logo {logo!r} is not a file in the documents assets folder")
    return path.as_uri()


def _qr_src(url: str) -> str:
    # SVG keeps the QR sharp and avoids PDF/A's anti-aliasing rules for raster images.
    return segno.make(url, error="m").svg_data_uri(scale=4, border=0)


def _validate(d: LetterData) -> None:
    if d.outcome not in OUTCOMES:
        raise LetterRenderError(f"unknown outcome {d.outcome!r}")
    if d.outcome != "dipenuhi" and not d.reason.strip():
        raise LetterRenderError("a reason is required when the request is refused or partly met")
    if d.outcome == "ditolak" and d.files:
        raise LetterRenderError("a refusal delivers no files")
    scheme = urlsplit(d.verification_url).scheme
    if scheme not in ("http", "https"):
        raise LetterRenderError("verification_url must be an http(s) URL")
    for f in d.files:
        if not _SHA256_RE.match(f.sha256):
            raise LetterRenderError(f"file {f.name!r}: sha256 must be 64 lowercase hex digits")
        if f.size < 0:
            raise LetterRenderError(f"file {f.name!r}: negative size")
    for attr in ("letter_number", "place", "hal", "addressee_name", "requested_data_title",
                 "request_number", "signer_position"):
        if not str(getattr(d, attr)).strip():
            raise LetterRenderError(f"{attr} is required")


def build_record(d: LetterData) -> dict[str, Any]:
    """The JSON attached to the PDF: letter facts (for the verifier) plus the caller's record."""
    return {
        "format": RECORD_FORMAT,
        "letter": {
            "number": d.letter_number,
            # the letter's own date is the day of the final signature (in its appearance and
            # signing time); this is when the text was drafted
            "drafted": d.date.isoformat(),
            "place": d.place,
            "hal": d.hal,
            "outcome": d.outcome,
            "request_number": d.request_number,
            "verification_url": d.verification_url,
            "files": [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in d.files],
        },
        "request": dict(d.record),
    }


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    # autoescape=True for every template: user data can never become markup.
    env = jinja2.Environment(  # noqa: S701 - autoescape is on (True), ruff only sees a call
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tanggal"] = format_tanggal
    env.filters["ukuran"] = format_ukuran
    return env


@lru_cache(maxsize=1)
def _stylesheet_text() -> str:
    return (TEMPLATES_DIR / "letter.css").read_text(encoding="utf-8")


def render_html(d: LetterData) -> str:
    """The letter as HTML (trusted template + escaped data). Useful for previews."""
    _validate(d)
    lampiran = d.lampiran
    if lampiran is None:
        lampiran = f"{len(d.files)} berkas" if d.files else "-"
    return _env().get_template("letter.html").render(d=d, lampiran=lampiran,
                                                     **head_context(d.letterhead))


def head_context(head: LetterHead) -> dict[str, Any]:
    """What the letterhead template (kop.html) needs, for every kind of letter."""
    contact = " | ".join(
        p for p in (
            f"Telepon {head.phone}" if head.phone else "",
            f"Pos-el {head.email}" if head.email else "",
            f"Laman {head.website}" if head.website else "",
        ) if p
    )
    return {"head": head, "contact_line": contact, "logo_src": _logo_src(head.logo)}


def _dedupe_af(_document: Any, pdf: Any) -> None:
    """WeasyPrint 70 lists each attachment twice in the catalog's /AF (once from the name
    tree, once from the file specification itself); PDF/A-3 wants it once."""
    af = pdf.catalog.get("AF")
    if af:
        seen: dict[str, Any] = {}
        for item in af:
            key = item.decode() if isinstance(item, bytes) else str(item)
            seen.setdefault(key.strip(), item)
        af[:] = list(seen.values())


def _render(html: str, *, attachments: list[Attachment] | None = None,
            anchors: Mapping[str, str] = ANCHOR_IDS) -> RenderedLetter:
    fetcher = AssetURLFetcher()
    font_config = FontConfiguration()
    base_url = ASSETS_DIR.as_uri() + "/"
    options: dict[str, Any] = {"pdf_variant": PDF_VARIANT}
    try:
        css = CSS(string=_stylesheet_text(), base_url=base_url, url_fetcher=fetcher,
                  font_config=font_config)
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
            font_config=font_config, stylesheets=[css], **options
        )
        layout = _layout(document, anchors)
        pdf = document.write_pdf(attachments=attachments or [], finisher=_dedupe_af, **options)
    except BlockedURLError as exc:
        # FatalURLFetchingError is a BaseException; turn it into a normal error for callers.
        raise LetterRenderError(str(exc)) from exc
    if fetcher.blocked:
        raise LetterRenderError(f"URL not allowed in letters: {fetcher.blocked[0]}")
    assert isinstance(pdf, bytes)
    return RenderedLetter(pdf=pdf, layout=layout, sha256=hashlib.sha256(pdf).hexdigest())


def _layout(document: Any, anchors: Mapping[str, str] = ANCHOR_IDS) -> SignatureLayout:
    found: dict[str, FieldBox] = {}
    for index, page in enumerate(document.pages):
        height = page.height
        for anchor, name in anchors.items():
            if anchor in page.anchors and name not in found:
                x1, y1, x2, y2 = page.anchors[anchor]
                # CSS px, y down from the top -> PDF points, y up from the bottom.
                box = (x1 * _CSS_PX_TO_PT, (height - y2) * _CSS_PX_TO_PT,
                       x2 * _CSS_PX_TO_PT, (height - y1) * _CSS_PX_TO_PT)
                found[name] = FieldBox(name, index, tuple(round(v, 2) for v in box))  # type: ignore[arg-type]
    missing = [name for name in anchors.values() if name not in found]
    if missing:
        raise LetterRenderError(f"template lacks signature areas for {missing}")
    return SignatureLayout(tuple(found[n] for n in anchors.values()), len(document.pages))


def render_letter_with_layout(d: LetterData) -> RenderedLetter:
    """Render to PDF/A-3b with ``record.json`` attached; also return the signature-field layout."""
    record = json.dumps(build_record(d), ensure_ascii=False, indent=1, sort_keys=True, default=str)
    stamp = dt.datetime.combine(d.date, dt.time(0, 0), tzinfo=dt.timezone.utc)
    attachment = Attachment(
        string=record.encode("utf-8"), name=RECORD_NAME, relationship="Data",
        description="Rekaman permohonan data (JSON)", created=stamp, modified=stamp,
    )
    # a workflow with fewer paraf has fewer paraf boxes (an empty title: no box)
    skip = {name for name, title in ((PARAF1, d.paraf1_title), (PARAF2, d.paraf2_title))
            if not title}
    anchors = {a: name for a, name in ANCHOR_IDS.items() if name not in skip}
    return _render(render_html(d), attachments=[attachment], anchors=anchors)


def render_letter(d: LetterData) -> bytes:
    """Render the letter to PDF/A-3b bytes (``record.json`` attached)."""
    return render_letter_with_layout(d).pdf


def prepare_letter(d: LetterData) -> RenderedLetter:
    """Render and pre-create the three empty signature fields: the PDF the paraf chain signs.

    The empty ``TTE`` field shows a DRAF mark (its appearance, replaced by the signature's
    own when the letter is signed). ``sha256`` is of the returned PDF (with fields), i.e.
    the bytes the first paraf covers.
    """
    from .fields import add_signature_fields  # pyHanko import only when needed
    from .layout import TTE

    rendered = render_letter_with_layout(d)
    tte = rendered.layout.get(TTE)
    mark = render_draft_mark(d.signer_position, _box_size(tte.box))
    pdf = add_signature_fields(rendered.pdf, rendered.layout, appearances={TTE: mark})
    return RenderedLetter(pdf=pdf, layout=rendered.layout, sha256=hashlib.sha256(pdf).hexdigest())


# --- field appearances ----------------------------------------------------------------------


def _box_size(box: Sequence[float]) -> tuple[float, float]:
    """Size in points of a field box as fields.py creates it (rounded outwards)."""
    import math

    x1, y1, x2, y2 = box
    return float(math.ceil(x2) - math.floor(x1)), float(math.ceil(y2) - math.floor(y1))


def issuer_statement(issuer: Mapping[str, Any]) -> str:
    """The e-signature statement for a certificate issuer (asn1crypto ``Name.native``).

    BSrE's standard sentence only when BSrE issued the certificate; otherwise the issuer is
    named as it is (a test CA says so instead of borrowing BSrE's name).
    """
    cn = str(issuer.get("common_name") or "").strip()
    org = str(issuer.get("organization_name") or "").strip()
    everything = " ".join(str(v) for v in issuer.values()).lower()
    if any(marker in everything for marker in _BSRE_MARKERS):
        return BSRE_STATEMENT
    who = ", ".join(dict.fromkeys(p for p in (cn, org) if p)) or "penerbit yang tidak dikenal"
    return ("Dokumen ini telah ditandatangani secara elektronik menggunakan sertifikat "
            f"elektronik yang diterbitkan oleh {who}.")


def _render_box(template: str, size: tuple[float, float], **context: Any) -> bytes:
    """One page exactly ``size`` (points): the appearance of a signature field."""
    width, height = size
    if width <= 0 or height <= 0:
        raise LetterRenderError("a signature field has no area")
    html = _env().get_template(template).render(**context)
    page_css = f"@page {{ size: {width:.2f}pt {height:.2f}pt; margin: 0; }}"
    fetcher = AssetURLFetcher()
    font_config = FontConfiguration()
    try:
        css = [CSS(string=(TEMPLATES_DIR / "stamp.css").read_text(encoding="utf-8") + page_css,
                   url_fetcher=fetcher, font_config=font_config)]
        document = HTML(string=html, base_url=ASSETS_DIR.as_uri() + "/",
                        url_fetcher=fetcher).render(font_config=font_config, stylesheets=css)
        pdf = document.write_pdf()
    except BlockedURLError as exc:
        raise LetterRenderError(str(exc)) from exc
    if fetcher.blocked:
        raise LetterRenderError(f"URL not allowed in letters: {fetcher.blocked[0]}")
    if len(document.pages) != 1:
        raise LetterRenderError(f"{template}: the content does not fit the signature field")
    assert isinstance(pdf, bytes)
    return pdf


def render_signature_block(block: SignatureBlock, size: tuple[float, float]) -> bytes:
    """The final signature's appearance: place and date, title, QR, name, rank, NIP, issuer."""
    for attr in ("place", "title", "signer_name"):
        if not str(getattr(block, attr)).strip():
            raise LetterRenderError(f"{attr} is required")
    if urlsplit(block.verification_url).scheme not in ("http", "https"):
        raise LetterRenderError("verification_url must be an http(s) URL")
    return _render_box("signature.html", size, b=block, qr_src=_qr_src(block.verification_url))


def render_paraf_mark(mark: ParafMark, size: tuple[float, float]) -> bytes:
    """A paraf box's appearance: who initialled, and when."""
    return _render_box("paraf.html", size, m=mark)


def render_draft_mark(title: str, size: tuple[float, float]) -> bytes:
    """The empty TTE field's appearance: DRAF, not yet signed."""
    return _render_box("draft.html", size, title=title)
