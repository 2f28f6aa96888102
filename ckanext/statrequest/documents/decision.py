"""The decision on an objection (Keputusan atas Keberatan, UU 14/2008 Pasal 36) as a PDF/A-3b
letter with one signature field (TTE): the atasan PPID decides alone, without a paraf chain.

Same rules as the reply letter (:mod:`.letter`): a trusted template, every value autoescaped,
the deny-by-default URL fetcher, ``record.json`` attached for the verifier. Plain Python.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from weasyprint import Attachment

from .layout import TTE
from .letter import (
    RECORD_FORMAT,
    RECORD_NAME,
    LetterHead,
    LetterRenderError,
    RenderedLetter,
    _box_size,
    _env,
    _render,
    head_context,
    render_draft_mark,
)

DECISIONS = ("diterima", "ditolak")
HAL = "Keputusan atas Keberatan"
ANCHORS: Mapping[str, str] = {"sig-tte": TTE}


@dataclass
class DecisionData:
    letterhead: LetterHead
    letter_number: str
    place: str
    date: dt.date  # drafted; the letter's own date is its signature's
    addressee_name: str
    request_number: str  # tracking number of the request objected to
    requested_data_title: str
    reply_letter_number: str  # the answer objected to ("" when there was none)
    filed_on: dt.date
    grounds: Sequence[str]  # Indonesian labels of the grounds
    objection_reason: str  # the requester's own words
    decision: str  # diterima | ditolak
    decision_reason: str
    signer_position: str
    verification_url: str
    addressee_institution: str = ""
    addressee_address: str = ""
    record: Mapping[str, Any] = field(default_factory=dict)


def _validate(d: DecisionData) -> None:
    if d.decision not in DECISIONS:
        raise LetterRenderError(f"unknown decision {d.decision!r}")
    if urlsplit(d.verification_url).scheme not in ("http", "https"):
        raise LetterRenderError("verification_url must be an http(s) URL")
    for attr in ("letter_number", "place", "addressee_name", "request_number",
                 "decision_reason", "signer_position"):
        if not str(getattr(d, attr)).strip():
            raise LetterRenderError(f"{attr} is required")
    if not d.grounds:
        raise LetterRenderError("an objection has at least one ground")


def build_record(d: DecisionData) -> dict[str, Any]:
    """The JSON attached to the PDF: the letter's facts for the verifier, plus the caller's."""
    return {
        "format": RECORD_FORMAT,
        "letter": {"number": d.letter_number, "kind": "keputusan_keberatan",
                   "drafted": d.date.isoformat(), "place": d.place, "hal": HAL,
                   "decision": d.decision, "request_number": d.request_number,
                   "verification_url": d.verification_url},
        "request": dict(d.record),
    }


def render_html(d: DecisionData) -> str:
    _validate(d)
    return _env().get_template("decision.html").render(d=d, hal=HAL,
                                                       **head_context(d.letterhead))


def prepare_decision(d: DecisionData) -> RenderedLetter:
    """Render with ``record.json`` and the one empty TTE field (showing DRAF until signed)."""
    from .fields import add_signature_fields  # pyHanko import only when needed

    record = json.dumps(build_record(d), ensure_ascii=False, indent=1, sort_keys=True,
                        default=str)
    stamp = dt.datetime.combine(d.date, dt.time(0, 0), tzinfo=dt.timezone.utc)
    attachment = Attachment(string=record.encode("utf-8"), name=RECORD_NAME,
                            relationship="Data", description="Rekaman keputusan keberatan (JSON)",
                            created=stamp, modified=stamp)
    rendered = _render(render_html(d), attachments=[attachment], anchors=ANCHORS)
    mark = render_draft_mark(d.signer_position, _box_size(rendered.layout.get(TTE).box))
    pdf = add_signature_fields(rendered.pdf, rendered.layout, appearances={TTE: mark})
    return RenderedLetter(pdf=pdf, layout=rendered.layout, sha256=hashlib.sha256(pdf).hexdigest())
