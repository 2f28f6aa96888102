"""Verify an uploaded PDF and reduce pyHanko's report to one plain verdict.

Statuses (checked in this order, notes §1.9):

``damaged``    the bytes are not a readable PDF, or a signature cannot be read / does not verify;
``unsigned``   a readable PDF without any signature;
``changed``    a signature no longer covers its bytes (``intact`` False), or the document was
               modified after signing beyond what the signatures allow (diff analysis says
               ``OTHER``, or a lock / DocMDP was broken);
``revoked``    intact and unchanged, but a signer's certificate was revoked before the time the
               signature is proven to exist (its timestamp; without one, any revocation);
``untrusted``  intact and unchanged, but a signer's chain does not lead to a trusted root (or
               its revocation status cannot be established when the check is hard-fail);
``valid``      everything above passed;
``too_complex`` the file is over a verification limit (:mod:`.pdfbudget`: too many signatures,
               revisions or objects, form-field or name trees whose nodes share children, a
               stream that decodes to too much) or, checked in a child process
               (:mod:`.sandbox`), ran out of its CPU time, memory or wall-clock budget. It says
               nothing about the signatures: the file was not checked to the end.

Long-term validity: a signature whose certificate has expired since (or was revoked after the
signature's trusted timestamp) stays valid when the letter carries the proof for it: a
signature timestamp that is still trusted today and the revocation data of that time embedded
(DSS, PAdES B-LT). The certificate is then checked as it was at the timestamp's time, against
the embedded revocation data only. Document timestamps (B-LTA, renewed by ``ltv-refresh``)
keep the timestamps themselves verifiable after the TSA's certificate expires.

Revocation: offline by default (embedded data only, soft-fail). With :class:`RevocationCheck`
(the portal passes one when an OCSP/CRL service is configured) the current status is fetched,
only from the configured addresses, and a status that cannot be established fails the check.

``not_ours`` (signed and valid, but not a letter this portal issued) is for the caller to decide,
with :attr:`Verdict.letter_number` (from the attached ``record.json``) and
:attr:`Verdict.signed_fields`.

Codes only, no prose: the CKAN layer translates ``status`` and ``reasons``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, Literal

import aiohttp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import DecodeLimits, StreamDecodeLimits
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    FormUpdate,
    FormUpdatingRule,
    ModificationLevel,
    StandardDiffPolicy,
)
from pyhanko.sign.diff_analysis.rules.form_field_rules import is_field_visible
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from ._aio import run_sync
from .layout import SIGNING_ORDER
from .pdfbudget import Budget, TooComplex, check_bytes, check_reader

log = logging.getLogger(__name__)

Status = Literal["valid", "changed", "revoked", "untrusted", "damaged", "unsigned",
                 "too_complex"]
RECORD_NAME = "record.json"
_MAX_RECORD = 1024 * 1024
_MAX_NAME_NODES = 1000  # nodes of the embedded-files name tree looked at for record.json
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
    revoked: bool = False  # revoked before the signature's proven time
    long_term: bool = False  # trusted as of its timestamp (certificate expired/revoked since)
    slot: str | None = None  # the pre-created field whose box it fills (see SlotFormRule)


@dataclass(frozen=True)
class RevocationCheck:
    """Fetch current OCSP/CRL data, only from URLs under ``allowed_prefixes``.

    ``hard_fail``: a status that cannot be established (responder down, no URL) makes the
    signer untrusted instead of being ignored.
    """

    allowed_prefixes: tuple[str, ...]
    hard_fail: bool = True
    timeout: float = 10.0
    session: aiohttp.ClientSession | None = field(default=None, repr=False, compare=False)


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


def _find_embedded_file(names_node: Any, wanted: str, depth: int = 0,
                        seen: set[Any] | None = None) -> bytes | None:
    """Walk a /Names name tree (depth-limited) for a file specification named ``wanted``.

    Nodes are visited once: a crafted tree whose nodes share their children would otherwise
    be walked once per path (exponentially many)."""
    seen = set() if seen is None else seen
    if depth > 8 or len(seen) > _MAX_NAME_NODES or \
            not isinstance(names_node, generic.DictionaryObject):
        return None
    flat = names_node.get("/Names")
    if flat is not None:
        arr = flat.get_object() if hasattr(flat, "get_object") else flat
        for i in range(0, min(len(arr), 2 * _MAX_NAME_NODES) - 1, 2):
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
            ref = kid.reference if isinstance(kid, generic.IndirectObject) else id(kid)
            if ref in seen:
                continue
            seen.add(ref)
            found = _find_embedded_file(kid.get_object(), wanted, depth + 1, seen)
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
    except MemoryError:
        raise
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


# --- the remote (whole-PDF) final signature at the TTE box -------------------------------------

SLOT_FIELDS = SIGNING_ORDER  # the pre-created fields: Paraf1, Paraf2, TTE
_BOX_TOLERANCE = 2.0  # points


def _sig_fields(resolver: Any) -> dict[str, tuple[Any, tuple[float, ...], bool]]:
    """Top-level signature fields: name -> (page reference, rectangle, filled)."""
    out: dict[str, tuple[Any, tuple[float, ...], bool]] = {}
    for f in _top_sig_fields(resolver):
        widget = f
        if "/Rect" not in f and "/Kids" in f:
            widget = f["/Kids"][0].get_object()
        try:
            rect = tuple(float(x) for x in widget["/Rect"])
            page = widget.raw_get("/P")
        except (KeyError, TypeError, ValueError):
            continue
        page_ref = getattr(page, "reference", page)
        out[str(f["/T"])] = (page_ref, rect, "/V" in f)
    return out


def _top_sig_fields(resolver: Any) -> list[Any]:
    """The dictionaries of the top-level signature fields (those with a name)."""
    try:
        fields = resolver.root["/AcroForm"]["/Fields"]
    except (KeyError, TypeError):
        return []
    out = []
    for ref in fields:
        f = ref.get_object()
        if f.get("/FT") == "/Sig" and "/T" in f:
            out.append(f)
    return out


def _slot_fields(old: Any, new: Any) -> set[str]:
    """The one new *visible* signature field in ``new`` lying exactly on a pre-created field
    that is still empty (in ``old`` and ``new``); empty when there is none or more than one.

    pyHanko compares a signed revision with each later revision as a whole, so a remote
    signature's field is seen together with everything appended after it. New invisible
    signature fields (document timestamps, PAdES B-LTA) are not counted: pyHanko itself
    allows those under any lock, and they are no second signature block on the page."""
    before = {str(f["/T"]) for f in _top_sig_fields(old)}
    visible = [str(f["/T"]) for f in _top_sig_fields(new)
               if str(f["/T"]) not in before and _visible(f)]
    if len(visible) != 1:  # none, a second visible one, or two fields of the same name
        return set()
    after = _sig_fields(new)
    if visible[0] not in after:  # no page or rectangle to compare
        return set()
    name, (page, rect, _filled) = visible[0], after[visible[0]]
    old_fields = _sig_fields(old)
    for slot in SLOT_FIELDS:
        if slot in old_fields and slot in after and not old_fields[slot][2] \
                and not after[slot][2] and old_fields[slot][0] == page \
                and _same_box(rect, old_fields[slot][1]):
            return {name}
    return set()


def _visible(sig_field: Any) -> bool:
    """pyHanko's own test (a widget with a non-zero area); unreadable counts as visible."""
    try:
        return bool(is_field_visible(sig_field))
    except (KeyError, TypeError, ValueError, AttributeError):
        return True


def _same_box(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    if len(a) != 4 or len(b) != 4:
        return False
    na = (min(a[0], a[2]), min(a[1], a[3]), max(a[0], a[2]), max(a[1], a[3]))
    nb = (min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3]))
    return all(abs(x - y) <= _BOX_TOLERANCE for x, y in zip(na, nb, strict=True))


class SlotFormRule(FormUpdatingRule):
    """pyHanko's form rule, plus: a new signature field exactly on an empty pre-created field.

    A whole-PDF signing service (the BSrE esign-client ``/api/v2/sign/pdf``) cannot be told to
    sign our pre-created field (``TTE``): it adds its own visible signature field at the page
    and position it is given, which is that field's box. The paraf locks (FieldMDP: every field
    except those still to be signed) would count that new field as a forbidden change. This
    rule lets exactly that one through: one visible signature field, new since the signed
    revision, on the page and rectangle (within 2 pt) of a pre-created field that stays empty.
    A visible field anywhere else, a second new visible field, or page content changes stay
    forbidden. Invisible new signature fields (the document timestamps that complete a letter
    to B-LTA, appended after the service's field and analysed together with it) are pyHanko's
    to judge, as in any letter: they neither count nor get any extra allowance here.
    """

    def apply(self, old: Any, new: Any) -> Any:
        allowed = _slot_fields(old, new)
        for level, update in super().apply(old, new):
            if allowed and isinstance(update, FormUpdate) and update.field_name in allowed:
                update = dataclasses.replace(update, valid_when_locked=True)
            yield level, update


_FORM_RULE = DEFAULT_DIFF_POLICY.form_rule
DIFF_POLICY = StandardDiffPolicy(
    global_rules=DEFAULT_DIFF_POLICY.global_rules,
    form_rule=SlotFormRule(field_rules=_FORM_RULE.field_rules,
                              ignored_acroform_keys=_FORM_RULE.ignored_acroform_keys),
)


# --- validation contexts: offline, embedded (DSS) data, or fetched from allowed URLs ----------


def _url_guard(prefixes: tuple[str, ...]) -> aiohttp.TraceConfig:
    """Refuse any request outside the configured responder: the URLs come from the uploaded
    file's certificates, and a public form must not make the server fetch arbitrary addresses."""
    async def on_start(_session: Any, _ctx: Any, params: Any) -> None:
        url = str(params.url)
        if not any(url.startswith(p) for p in prefixes):
            raise aiohttp.InvalidURL(url)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    return trace


@contextlib.asynccontextmanager
async def _fetch_session(check: RevocationCheck | None
                         ) -> AsyncIterator[aiohttp.ClientSession | None]:
    if check is None or not check.allowed_prefixes:
        yield None
    elif check.session is not None:
        yield check.session
    else:
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=check.timeout),
            trace_configs=[_url_guard(check.allowed_prefixes)],
        ) as session:
            yield session


def _dss_kwargs(reader: PdfFileReader) -> dict[str, Any]:
    """Certificates and revocation data embedded in the document (PAdES B-LT)."""
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return {}
    vc = dss.as_validation_context({"trust_roots": []})
    return {"other_certs": list(dss.load_certs()), "ocsps": list(vc.ocsps),
            "crls": list(vc.crls)}


def _context(trust_roots: Sequence[asn1_x509.Certificate], dss: dict[str, Any] | None = None,
             session: aiohttp.ClientSession | None = None, hard_fail: bool = False,
             moment: dt.datetime | None = None, retroactive: bool = False) -> ValidationContext:
    # Without a session: offline on purpose (see _url_guard); embedded data is used.
    return ValidationContext(
        trust_roots=list(trust_roots), **(dss or {}),
        allow_fetching=session is not None,
        fetcher_backend=AIOHttpFetcherBackend(session) if session is not None else None,
        revocation_mode="hard-fail" if hard_fail else "soft-fail",
        moment=moment, retroactive_revinfo=retroactive,
    )


async def _validate_signature(emb: Any, trust_roots: Sequence[asn1_x509.Certificate],
                              dss: dict[str, Any], session: aiohttp.ClientSession | None,
                              hard_fail: bool, moment: dt.datetime | None) -> SignerInfo:
    """One /Sig signature: now (current revocation status), else as of its timestamp.

    "Now" uses the embedded certificates but not the embedded revocation data: that data is as
    old as the signature and would only be "stale" today; the current status is fetched (or,
    offline, soft-fail as before). The timestamp's time uses exactly the embedded data.
    """
    certs_only = {"other_certs": dss.get("other_certs", [])}
    vc = _context(trust_roots, certs_only, session, hard_fail, moment)
    status = await async_validate_pdf_signature(
        emb, signer_validation_context=vc, ts_validation_context=vc,
        key_usage_settings=_KEY_USAGE, diff_policy=DIFF_POLICY)
    info = _signer_info(emb, status, "signature")
    if info.trusted or not (info.intact and info.valid):
        return info
    ts = status.timestamp_validity
    proven = ts.timestamp if ts is not None and ts.intact and ts.valid and ts.trusted else None
    details = status.revocation_details
    if details is not None and (proven is None or details.revocation_date <= proven):
        return dataclasses.replace(info, revoked=True)
    cert = status.signing_cert
    expired = cert is not None and cert.not_valid_after < (moment or dt.datetime.now(dt.timezone.utc))
    if proven is None or not (expired or details is not None) or not (
            dss.get("ocsps") or dss.get("crls")):
        # Not long-term material, or the certificate is current and its status simply could
        # not be established (hard-fail): the embedded data cannot stand in for that.
        return info
    # Long-term: the certificate as it was at the timestamp, with the embedded revocation data
    # of that time (responses made just after it count: retroactive).
    past = _context(trust_roots, dss, None, True, proven, retroactive=True)
    then = await async_validate_pdf_signature(
        emb, signer_validation_context=past, ts_validation_context=vc,
        key_usage_settings=_KEY_USAGE, diff_policy=DIFF_POLICY)
    if then.trusted and then.intact and then.valid:
        return dataclasses.replace(info, trusted=True, long_term=True)
    return info


async def async_verify_pdf(pdf_bytes: bytes,
                           trust_roots: Sequence[asn1_x509.Certificate],
                           revocation: RevocationCheck | None = None,
                           moment: dt.datetime | None = None,
                           budget: Budget | None = None) -> Verdict:
    """Verify every signature (and document timestamp) in ``pdf_bytes``.

    ``revocation``: fetch the current revocation status (see :class:`RevocationCheck`);
    ``moment``: validate as of another time (tests: "ten years later");
    ``budget``: measure the file's structure first (:mod:`.pdfbudget`) and answer
    ``too_complex`` without validating when it is over a limit. MemoryError is never turned
    into "damaged": in the child process of :mod:`.sandbox` it means "too complex".
    """
    sha = hashlib.sha256(pdf_bytes).hexdigest()
    if _truncated(pdf_bytes):
        # a reader would fall back to the last complete revision and could call a cut-off
        # letter "valid" up to an earlier signature: what was received is not the document
        return Verdict("damaged", ("truncated",), sha)
    try:
        if budget is not None:
            check_bytes(pdf_bytes, budget)
        # Default DecodeLimits are the "untrusted input" ones (decompression-bomb protection);
        # a budget tightens them.
        reader = PdfFileReader(BytesIO(pdf_bytes), decode_limits=(
            budget.decode_limits() if budget is not None else None))
        if budget is not None:
            check_reader(reader, budget)
        sigs = list(reader.embedded_signatures)
        all_fields = [(name, value is not None) for name, value, _ in enumerate_sig_fields(reader)]
    except TooComplex as exc:
        return Verdict("too_complex", (exc.reason,), sha)
    except MemoryError:
        raise
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
    hard_fail = revocation is not None and revocation.hard_fail
    try:
        dss = _dss_kwargs(reader)
        async with _fetch_session(revocation) as session:
            for emb in sigs:
                if emb.sig_object_type == "/DocTimeStamp":
                    ts_status = await async_validate_pdf_timestamp(
                        emb, validation_context=_context(
                            trust_roots, {"other_certs": dss.get("other_certs", [])},
                            session, hard_fail, moment),
                        diff_policy=DIFF_POLICY)
                    infos.append(_signer_info(emb, ts_status, "timestamp"))
                else:
                    infos.append(await _validate_signature(
                        emb, trust_roots, dss, session, hard_fail, moment))
        infos = _with_slots(reader, infos)
        # The record as covered by the last signature, not whatever was appended after it.
        record = _extract_record(pdf_bytes, sigs[-1].signed_revision)
    except MemoryError:
        raise
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
    elif any(i.revoked for i in infos):
        status_code, reasons = "revoked", ["revoked_signer"]
    elif any(not i.trusted for i in infos):
        status_code, reasons = "untrusted", ["untrusted_signer"]
    else:
        status_code = "valid"
    return Verdict(status_code, tuple(reasons), sha, infos, signed_fields, empty_fields,
                   _letter_number(record), record)


def _truncated(pdf_bytes: bytes) -> bool:
    """Bytes after the last end-of-file marker other than whitespace: a cut or appended-to file."""
    end = pdf_bytes.rfind(b"%%EOF")
    return end >= 0 and bool(pdf_bytes[end + 5:].strip(b"\x00\t\n\x0c\r "))


def verify_pdf(pdf_bytes: bytes, trust_roots: Sequence[asn1_x509.Certificate],
               revocation: RevocationCheck | None = None,
               moment: dt.datetime | None = None, budget: Budget | None = None) -> Verdict:
    """Sync wrapper of :func:`async_verify_pdf` (safe inside or outside an event loop).

    Runs in this process without time limits: an untrusted upload goes through
    :func:`.sandbox.verify_pdf_isolated`, which calls this in a child process."""
    return run_sync(async_verify_pdf(pdf_bytes, trust_roots, revocation, moment, budget))


def _with_slots(reader: PdfFileReader, infos: list[SignerInfo]) -> list[SignerInfo]:
    """Name the pre-created box each signature fills: its own field, or the empty pre-created
    field whose box a remote service's new field covers exactly (see SlotFormRule)."""
    fields = _sig_fields(reader)
    out = []
    for info in infos:
        slot = info.field
        mine = fields.get(info.field)
        if info.kind == "signature" and mine is not None and info.field not in SLOT_FIELDS:
            for name in SLOT_FIELDS:
                other = fields.get(name)
                if other is not None and not other[2] and other[0] == mine[0] \
                        and _same_box(mine[1], other[1]):
                    slot = name
                    break
        out.append(dataclasses.replace(info, slot=slot))
    return out
