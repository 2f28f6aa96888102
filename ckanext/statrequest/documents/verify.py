"""Verify an uploaded PDF and reduce pyHanko's report to one plain verdict.

Statuses (checked in this order, notes §1.9):

``damaged``    the bytes are not a readable PDF, or a signature cannot be read / does not verify;
``unsigned``   a readable PDF without any signature;
``changed``    a signature no longer covers its bytes (``intact`` False), or the document was
               modified after signing beyond what the signatures allow (diff analysis says
               ``OTHER``, or a lock / DocMDP was broken);
``untrusted``  intact and unchanged, but a signer's chain does not lead to a trusted root;
``valid``      everything above passed.

``not_ours`` (signed and valid, but not a letter this portal issued) is for the caller to decide,
with :attr:`Verdict.letter_number` (from the attached ``record.json``) and
:attr:`Verdict.signed_fields`.

Codes only, no prose: the CKAN layer translates ``status`` and ``reasons``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, Literal

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import DecodeLimits, StreamDecodeLimits
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from ._aio import run_sync

log = logging.getLogger(__name__)

Status = Literal["valid", "changed", "untrusted", "damaged", "unsigned"]
RECORD_NAME = "record.json"
_MAX_RECORD = 1024 * 1024
# record.json is read with a second reader whose streams may decode to 16 MiB at most, so a
# crafted attachment (a Flate bomb within the generic 256 MiB limit) cannot eat the worker's memory.
_RECORD_LIMITS = DecodeLimits(per_stream=StreamDecodeLimits(max_output_size=16 * 1024 * 1024))
# Signing certificates need digitalSignature or nonRepudiation (BSrE certificates carry both).
_KEY_USAGE = KeyUsageConstraints(
    key_usage=frozenset({"digital_signature", "non_repudiation"}), match_all_key_usages=False
)


@dataclass(frozen=True)
class SignerInfo:
    field: str
    kind: Literal["signature", "timestamp"]
    name: str | None  # certificate common name
    subject: str  # full subject, human readable
    serial_number: str | None  # subject serialNumber attribute (NIK/NIP in BSrE certificates)
    issuer: str
    signing_time: dt.datetime | None  # TSA time when present, else the signer's claimed time
    timestamped: bool
    intact: bool
    valid: bool
    trusted: bool
    modification_level: str | None  # NONE, LTA_UPDATES, FORM_FILLING, ANNOTATIONS, OTHER
    docmdp_ok: bool | None
    reason: str | None
    location: str | None


@dataclass(frozen=True)
class Verdict:
    status: Status
    reasons: tuple[str, ...]  # codes, e.g. ("not_intact",), ("untrusted_signer",)
    sha256: str
    signers: list[SignerInfo] = field(default_factory=list)
    signed_fields: tuple[str, ...] = ()
    empty_fields: tuple[str, ...] = ()
    letter_number: str | None = None
    record: dict[str, Any] | None = None

    @property
    def message_key(self) -> str:
        return f"statrequest.verify.{self.status}"

    @property
    def ok(self) -> bool:
        return self.status == "valid"


def _name_attr(name: asn1_x509.Name, attr: str) -> str | None:
    try:
        value = name.native.get(attr)
    except (ValueError, TypeError):
        return None
    if isinstance(value, list):
        value = value[-1]
    return str(value) if value is not None else None


def _find_embedded_file(names_node: Any, wanted: str, depth: int = 0) -> bytes | None:
    """Walk a /Names name tree (depth-limited) for a file specification named ``wanted``."""
    if depth > 8 or not isinstance(names_node, generic.DictionaryObject):
        return None
    flat = names_node.get("/Names")
    if flat is not None:
        arr = flat.get_object() if hasattr(flat, "get_object") else flat
        for i in range(0, len(arr) - 1, 2):
            spec = arr[i + 1].get_object()
            label = spec.get("/UF") or spec.get("/F") or arr[i]
            if str(label) == wanted and "/EF" in spec:
                ef = spec["/EF"].get_object()
                stream = (ef.get("/F") or ef.get("/UF")).get_object()
                length = int(stream.get("/Length", 0))
                if length > _MAX_RECORD:
                    return None
                data = stream.data
                return data if len(data) <= _MAX_RECORD else None
    kids = names_node.get("/Kids")
    if kids is not None:
        for kid in kids.get_object():
            found = _find_embedded_file(kid.get_object(), wanted, depth + 1)
            if found is not None:
                return found
    return None


def _extract_record(pdf_bytes: bytes, revision: int | None) -> dict[str, Any] | None:
    try:
        reader = PdfFileReader(BytesIO(pdf_bytes), decode_limits=_RECORD_LIMITS)
        root = reader.root if revision is None else reader.get_historical_root(revision)
        names = root.get("/Names")
        if names is None:
            return None
        ef_tree = names.get_object().get("/EmbeddedFiles")
        if ef_tree is None:
            return None
        data = _find_embedded_file(ef_tree.get_object(), RECORD_NAME)
        if data is None:
            return None
        record = json.loads(data.decode("utf-8"))
        return record if isinstance(record, dict) else None
    except Exception:  # noqa: BLE001 - a malformed attachment just means "no record"
        log.debug("record.json unreadable", exc_info=True)
        return None


def _letter_number(record: dict[str, Any] | None) -> str | None:
    if not record:
        return None
    letter = record.get("letter")
    number = letter.get("number") if isinstance(letter, dict) else None
    number = number or record.get("letter_number")
    return str(number) if isinstance(number, (str, int)) else None


def _signer_info(emb: Any, status: Any, kind: Literal["signature", "timestamp"]) -> SignerInfo:
    cert = status.signing_cert
    subject = cert.subject if cert is not None else None
    ts = getattr(status, "timestamp_validity", None)
    if kind == "timestamp":
        signing_time = status.timestamp
        timestamped = True
    else:
        signing_time = ts.timestamp if ts is not None else status.signer_reported_dt
        timestamped = ts is not None
    sig_obj = emb.sig_object
    level = status.modification_level
    return SignerInfo(
        field=emb.field_name,
        kind=kind,
        name=_name_attr(subject, "common_name") if subject is not None else None,
        subject=subject.human_friendly if subject is not None else "",
        serial_number=_name_attr(subject, "serial_number") if subject is not None else None,
        issuer=cert.issuer.human_friendly if cert is not None else "",
        signing_time=signing_time,
        timestamped=timestamped,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        modification_level=level.name if level is not None else None,
        docmdp_ok=status.docmdp_ok,
        reason=str(sig_obj["/Reason"]) if "/Reason" in sig_obj else None,
        location=str(sig_obj["/Location"]) if "/Location" in sig_obj else None,
    )


def _context(trust_roots: Sequence[asn1_x509.Certificate]) -> ValidationContext:
    # Offline on purpose: a public upload form must not make the server fetch arbitrary URLs
    # (AIA/CRL/OCSP addresses come from the uploaded file). Embedded revocation info is used.
    return ValidationContext(trust_roots=list(trust_roots), allow_fetching=False,
                             revocation_mode="soft-fail")


async def async_verify_pdf(pdf_bytes: bytes,
                           trust_roots: Sequence[asn1_x509.Certificate]) -> Verdict:
    """Verify every signature (and document timestamp) in ``pdf_bytes``."""
    sha = hashlib.sha256(pdf_bytes).hexdigest()
    try:
        # Default DecodeLimits are the "untrusted input" ones (decompression-bomb protection).
        reader = PdfFileReader(BytesIO(pdf_bytes))
        sigs = list(reader.embedded_signatures)
        all_fields = [(name, value is not None) for name, value, _ in enumerate_sig_fields(reader)]
    except Exception:  # noqa: BLE001 - anything unreadable is "damaged", never a 500
        log.debug("unreadable PDF", exc_info=True)
        return Verdict("damaged", ("unparseable",), sha)
    signed_fields = tuple(n for n, filled in all_fields if filled)
    empty_fields = tuple(n for n, filled in all_fields if not filled)
    if not sigs:
        record = _extract_record(pdf_bytes, None)
        return Verdict("unsigned", ("no_signatures",), sha, [], signed_fields, empty_fields,
                       _letter_number(record), record)

    infos: list[SignerInfo] = []
    reasons: list[str] = []
    try:
        for emb in sigs:
            if emb.sig_object_type == "/DocTimeStamp":
                ts_status = await async_validate_pdf_timestamp(
                    emb, validation_context=_context(trust_roots))
                infos.append(_signer_info(emb, ts_status, "timestamp"))
            else:
                vc = _context(trust_roots)
                status = await async_validate_pdf_signature(
                    emb, signer_validation_context=vc, ts_validation_context=vc,
                    key_usage_settings=_KEY_USAGE)
                infos.append(_signer_info(emb, status, "signature"))
        # The record as covered by the last signature, not whatever was appended after it.
        record = _extract_record(pdf_bytes, sigs[-1].signed_revision)
    except Exception:  # noqa: BLE001 - broken CMS, broken xref in a revision, decode limit...
        log.debug("signature unreadable", exc_info=True)
        return Verdict("damaged", ("signature_unreadable",), sha, infos, signed_fields,
                       empty_fields)

    status_code: Status
    if any(not i.valid and i.intact for i in infos):
        status_code, reasons = "damaged", ["signature_invalid"]
    elif any(not i.intact for i in infos):
        status_code, reasons = "changed", ["not_intact"]
    elif any(i.modification_level == ModificationLevel.OTHER.name or i.docmdp_ok is False
             for i in infos):
        status_code, reasons = "changed", ["modified_after_signing"]
    elif any(not i.trusted for i in infos):
        status_code, reasons = "untrusted", ["untrusted_signer"]
    else:
        status_code = "valid"
    return Verdict(status_code, tuple(reasons), sha, infos, signed_fields, empty_fields,
                   _letter_number(record), record)


def verify_pdf(pdf_bytes: bytes, trust_roots: Sequence[asn1_x509.Certificate]) -> Verdict:
    """Sync wrapper of :func:`async_verify_pdf` (safe inside or outside an event loop)."""
    return run_sync(async_verify_pdf(pdf_bytes, trust_roots))
