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

from .layout import ANCHOR_IDS, FieldBox, SignatureLayout

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
TEMPLATES_DIR = PACKAGE_DIR / "templates"

Outcome = Literal["dipenuhi", "dipenuhi_sebagian", "ditolak"]
OUTCOMES: tuple[str, ...] = ("dipenuhi", "dipenuhi_sebagian", "ditolak")

DEFAULT_FOOTER = (
    "Dokumen ini telah ditandatangani secara elektronik menggunakan sertifikat elektronik yang "
    "diterbitkan oleh Balai Besar Sertifikasi Elektronik (BSrE), Badan Siber dan Sandi Negara."
)
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
    signer_name: str  # Kepala Dinas
    signer_nip: str  # the "NIP." line is left out when empty (e.g. not yet configured)
    signer_position: str  # e.g. "Kepala Dinas Komunikasi dan Informatika Kabupaten Ketapang"
    paraf1_name: str  # Kepala Bidang
    paraf2_name: str  # Sekretaris
    verification_url: str  # QR target
    addressee_institution: str = ""
    addressee_address: str = ""
    lampiran: str | None = None  # None: "<n> berkas" from files, or "-"
    sifat: str = "Biasa"
    reason: str = ""  # required for dipenuhi_sebagian and ditolak
    files: Sequence[DeliveredFile] = ()
    tembusan: Sequence[str] = ()
    signer_rank: str = ""  # pangkat/golongan, e.g. "Pembina Utama Muda (IV/c)"
    signer_acting: str = ""  # "Plt." / "Plh." when an acting official signs
    paraf1_title: str = "Kepala Bidang Statistik"
    paraf2_title: str = "Sekretaris"
    request_letter_number: str = ""
    footer_text: str = DEFAULT_FOOTER
    record: Mapping[str, Any] = field(default_factory=dict)  # attached as record.json


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
                 "request_number", "signer_name", "signer_position"):
        if not str(getattr(d, attr)).strip():
            raise LetterRenderError(f"{attr} is required")


def build_record(d: LetterData) -> dict[str, Any]:
    """The JSON attached to the PDF: letter facts (for the verifier) plus the caller's record."""
    return {
        "format": RECORD_FORMAT,
        "letter": {
            "number": d.letter_number,
            "date": d.date.isoformat(),
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
    head = d.letterhead
    contact = " | ".join(
        p for p in (
            f"Telepon {head.phone}" if head.phone else "",
            f"Pos-el {head.email}" if head.email else "",
            f"Laman {head.website}" if head.website else "",
        ) if p
    )
    lampiran = d.lampiran
    if lampiran is None:
        lampiran = f"{len(d.files)} berkas" if d.files else "-"
    return _env().get_template("letter.html").render(
        d=d, head=head, contact_line=contact, lampiran=lampiran,
        logo_src=_logo_src(head.logo), qr_src=_qr_src(d.verification_url),
    )


def _render(html: str, *, attachments: list[Attachment] | None = None) -> RenderedLetter:
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
        layout = _layout(document)
        pdf = document.write_pdf(attachments=attachments or [], **options)
    except BlockedURLError as exc:
        # FatalURLFetchingError is a BaseException; turn it into a normal error for callers.
        raise LetterRenderError(str(exc)) from exc
    if fetcher.blocked:
        raise LetterRenderError(f"URL not allowed in letters: {fetcher.blocked[0]}")
    assert isinstance(pdf, bytes)
    return RenderedLetter(pdf=pdf, layout=layout, sha256=hashlib.sha256(pdf).hexdigest())


def _layout(document: Any) -> SignatureLayout:
    found: dict[str, FieldBox] = {}
    for index, page in enumerate(document.pages):
        height = page.height
        for anchor, name in ANCHOR_IDS.items():
            if anchor in page.anchors and name not in found:
                x1, y1, x2, y2 = page.anchors[anchor]
                # CSS px, y down from the top -> PDF points, y up from the bottom.
                box = (x1 * _CSS_PX_TO_PT, (height - y2) * _CSS_PX_TO_PT,
                       x2 * _CSS_PX_TO_PT, (height - y1) * _CSS_PX_TO_PT)
                found[name] = FieldBox(name, index, tuple(round(v, 2) for v in box))  # type: ignore[arg-type]
    missing = [name for name in ANCHOR_IDS.values() if name not in found]
    if missing:
        raise LetterRenderError(f"template lacks signature areas for {missing}")
    return SignatureLayout(tuple(found[n] for n in ANCHOR_IDS.values()), len(document.pages))


def render_letter_with_layout(d: LetterData) -> RenderedLetter:
    """Render to PDF/A-3b with ``record.json`` attached; also return the signature-field layout."""
    record = json.dumps(build_record(d), ensure_ascii=False, indent=1, sort_keys=True, default=str)
    stamp = dt.datetime.combine(d.date, dt.time(0, 0), tzinfo=dt.timezone.utc)
    attachment = Attachment(
        string=record.encode("utf-8"), name=RECORD_NAME, relationship="Data",
        description="Rekaman permohonan data (JSON)", created=stamp, modified=stamp,
    )
    return _render(render_html(d), attachments=[attachment])


def render_letter(d: LetterData) -> bytes:
    """Render the letter to PDF/A-3b bytes (``record.json`` attached)."""
    return render_letter_with_layout(d).pdf


def prepare_letter(d: LetterData) -> RenderedLetter:
    """Render and pre-create the three empty signature fields: the PDF the paraf chain signs.

    ``sha256`` is of the returned PDF (with fields), i.e. the bytes the first paraf covers.
    """
    from .fields import add_signature_fields  # pyHanko import only when needed

    rendered = render_letter_with_layout(d)
    pdf = add_signature_fields(rendered.pdf, rendered.layout)
    return RenderedLetter(pdf=pdf, layout=rendered.layout, sha256=hashlib.sha256(pdf).hexdigest())
