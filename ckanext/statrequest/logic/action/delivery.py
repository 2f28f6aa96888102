"""Public verification of signed reply letters (the QR code's target), and the optional
publication of delivered data as open data (their names: `logic.api.ACTIONS["delivery"]`;
``__all__`` lists the CKAN action it chains).

`documents.verify` says what the signatures in a PDF are worth; this module adds what only the
portal knows: whether the file is a letter this portal issued (its letter number leads to a
request whose signed reply has exactly these bytes), and the letter's public facts. Only the
letter number, date, outcome, signers and hash are shown, to anyone who has the file or the
code: nothing about the requester.
"""
from __future__ import annotations

import collections
import logging
import time
from pathlib import Path
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import select

from ckanext.statrequest import settings
from ckanext.statrequest.core.vocabulary import N_, OUTCOMES, OUTCOMES_WITH_DATA
from ckanext.statrequest.documents.certs import load_pem_certs
from ckanext.statrequest.documents.layout import TTE
from ckanext.statrequest.documents.pdfbudget import Budget
from ckanext.statrequest.documents.sandbox import verify_pdf_isolated
from ckanext.statrequest.documents.verify import Verdict
from ckanext.statrequest.lib import access, attachments, delivery, letters, ltv, ratelimit, records
from ckanext.statrequest.lib import objection as objections
from ckanext.statrequest.lib.texts import lang
from ckanext.statrequest.logic import common
from ckanext.statrequest.logic import dictization as dz
from ckanext.statrequest.logic.schema import delivery as schema_delivery
from ckanext.statrequest.model import Attachment, Event, Objection, Request
from ckanext.statrequest.model import now as now_utc

log = logging.getLogger(__name__)
_ = tk._

__all__ = ["member_list"]



# What each verdict (`Verdict.status`) is called and means, marked for translation and
# translated where shown
VERDICT_TITLES = {
    "valid": N_("Valid"),
    "changed": N_("Changed after signing"),
    "revoked": N_("Signer's certificate revoked"),
    "untrusted": N_("Signer not trusted"),
    "not_ours": N_("Not a letter of this portal"),
    "damaged": N_("Damaged or unreadable"),
    "unsigned": N_("Not signed"),
    "too_complex": N_("File too complex to check"),
}
VERDICT_EXPLANATIONS = {
    "valid": N_("This is an authentic letter of this portal. It has not been changed since it was "
                "signed, and every signature in it is valid and comes from a trusted signer."),
    "changed": N_("This file was changed after it was signed. Do not rely on its content; ask for "
                  "the original letter."),
    "revoked": N_("The file is signed, but the certificate of a signer was revoked (for example "
                  "because the key was lost) before this signature was made. Do not rely on it; "
                  "ask the issuing office."),
    "untrusted": N_("The file is signed, but the signer's certificate was not issued by an "
                    "authority this portal trusts."),
    "not_ours": N_("The signatures in this file are valid, but it is not a letter issued by this "
                   "portal: its letter number or its fingerprint (SHA-256) does not match our "
                   "records."),
    "damaged": N_("The file could not be read as a signed PDF, or a signature in it is broken."),
    "unsigned": N_("This PDF carries no electronic signature."),
    "too_complex": N_("This file is built in a way that would take too long to check (for example "
                      "very many signatures, or parts that refer to each other over and over), so "
                      "it was not checked. A reply letter of this portal is always simple enough: "
                      "ask the sender for the original letter."),
}


def _words(status: str) -> tuple[str, str]:
    """A verdict's title and explanation, in the user's language."""
    return _(VERDICT_TITLES[status]), _(VERDICT_EXPLANATIONS[status])


def outcome_label(outcome: str | None) -> str:
    """The outcome in the user's language (an unknown code as it is)."""
    return _(OUTCOMES[outcome]) if outcome in OUTCOMES else outcome or ""


def verify_budget() -> Budget:
    """The configured limits of one verification (options ``ckanext.statrequest.verify.*``)."""
    def num(name: str) -> int:
        return int(settings.get(f"verify.{name}") or 0)

    return Budget(max_signatures=num("max_signatures"), max_revisions=num("max_revisions"),
                  max_objects=num("max_objects"), max_tree_nodes=num("max_tree_nodes"),
                  max_tree_depth=num("max_tree_depth"),
                  max_graph_paths=num("max_graph_paths"), cpu_seconds=num("cpu_seconds"),
                  memory_mb=num("memory_mb"), wall_seconds=float(num("wall_seconds")))


def checked(pdf_bytes: bytes) -> Verdict:
    """The verdict on a file, computed in a child process within the configured budget."""
    return verify_pdf_isolated(pdf_bytes, trust_roots(), verify_budget(),
                               revocation=letters.revocation_check())


def max_upload() -> int:
    return int(settings.get("verify.max_upload_mb")) * 1024 * 1024


def trust_roots() -> list[Any]:
    """The configured root certificates, else the signing PKI's root (the test PKI's)."""
    paths = tk.aslist(settings.get("signing.trust_roots"))
    if not paths:
        folder = letters.pki_dir()
        paths = [str(p) for p in (folder / "root.pem", folder / "root-ca.pem") if p.exists()][:1]
    roots: list[Any] = []
    for path in paths:
        try:
            roots.extend(load_pem_certs(Path(path)))
        except (OSError, ValueError):
            log.exception("trust root %s cannot be read", path)
    return roots


def _read(upload: Any) -> bytes:
    """The uploaded bytes, refused when too large or not a PDF (decided by the bytes)."""
    limit = max_upload()
    if isinstance(upload, (bytes, bytearray)):
        content = bytes(upload[: limit + 1])
    elif isinstance(upload, tuple) and len(upload) == 2:
        content = bytes(upload[1][: limit + 1])
    else:
        stream = getattr(upload, "stream", upload)
        if not hasattr(stream, "read"):
            raise tk.ValidationError({"upload": [_("Please choose a PDF file.")]})
        content = stream.read(limit + 1)
    if not content:
        raise tk.ValidationError({"upload": [_("Please choose a PDF file.")]})
    if len(content) > limit:
        raise tk.ValidationError({"upload": [
            _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}]})
    if b"%PDF-" not in content[:1024]:  # where PDF readers look for the header
        raise tk.ValidationError({"upload": [_("This is not a PDF file.")]})
    return content


def _signed_letter(request: Request | Objection | None) -> Attachment | None:
    """The request's signed reply (None while the letter is only a draft), or an objection's
    signed decision."""
    if request is None:
        return None
    if isinstance(request, Objection):
        return objections.letter_of(request)
    row = model.Session.get(Attachment, request.letter_attachment_id or "")
    if row is None or row.kind != "signed_reply" or row.deleted_at is not None or not row.file_id:
        return None
    return row


def _by_code(code: str) -> Request | Objection:
    code = records.usable_ref(code)
    request = model.Session.scalars(
        select(Request).where(Request.verification_code == code)).first() if code else None
    if request is not None and _signed_letter(request) is not None:
        return request
    decided = objections.by_verification_code(code) if code else None  # a decision letter
    if decided is None or _signed_letter(decided) is None:
        raise tk.ObjectNotFound(_("Letter not found"))
    return decided


MAX_LETTER_NUMBER = 200


def _by_number(number: str | None) -> Request | Objection | None:
    number = records.usable_ref(number, MAX_LETTER_NUMBER)
    if number is None:
        return None
    return model.Session.scalars(select(Request).where(Request.letter_number == number)
                                 ).first() or objections.by_letter_number(number)


_STORED: collections.OrderedDict[tuple[str, str, int], Verdict] = collections.OrderedDict()
_STORED_SIZE = 256


def _stored_verdict(file_id: str, sha256: str) -> Verdict:
    """Our own copy's verdict; the bytes behind a signed letter never change (keyed by hash).
    Trust root changes are seen after a restart. Checked like an upload (a child process with
    the same budget); a "too complex" answer (e.g. a busy machine) is not remembered."""
    # With a revocation service the verdict can change (a certificate revoked later): keep it
    # ten minutes at most.
    key = (file_id, sha256, int(time.time() // 600) if letters.revocation_check() else 0)
    verdict = _STORED.get(key)
    if verdict is None:
        verdict = checked(b"".join(attachments.read(file_id)))
        if verdict.status != "too_complex":
            _STORED[key] = verdict
            while len(_STORED) > _STORED_SIZE:
                _STORED.popitem(last=False)
    return verdict


def _signers(verdict: Verdict, ours: bool) -> list[dict[str, Any]]:
    language = lang()
    positions = settings.workflow().positions
    position_of_field = letters.fields()
    out = []
    for s in verdict.signers:
        # slot: a remote service's own field lying on our pre-created field's box
        position = position_of_field.get(s.slot or s.field) if ours else None
        label = positions.get(position) if position else None
        kind = s.kind  # "signature" or "timestamp"
        if ours and kind == "signature" and (s.slot or s.field) != TTE:
            kind = "paraf"
        out.append({
            "name": s.name or s.subject,
            "position": position,
            "position_label": label.get(language) if label else None,
            "kind": kind,
            "signed_at": dz.iso(s.signing_time),
            "valid": s.valid and s.intact,
            "trusted": s.trusted,
            "revoked": s.revoked,
        })
    return out


def _letter_record(request: Request | Objection, row: Attachment) -> dict[str, Any]:
    """The public facts of one of our letters: number, date, outcome, signers, hash."""
    verdict = _stored_verdict(row.file_id or "", row.sha256)
    facts = (verdict.record or {}).get("letter") or {}
    date = facts.get("date") if isinstance(facts, dict) else None
    if isinstance(request, Objection):  # a decision on an objection: its own facts
        return {
            "kind": objections.DECISION_KIND, "letter_number": request.letter_number,
            "date": date or dz.iso(row.created_at.date()), "signed_at": dz.iso(row.created_at),
            "outcome": None, "decision": request.decision,
            "outcome_label": objections.decision_label(request.decision, lang()),
            "sha256": row.sha256, "status": verdict.status,
            "signers": _signers(verdict, ours=True),
            "verification_url": letters.verification_link(request.verification_code or ""),
        }
    return {
        "letter_number": request.letter_number,
        "date": date or dz.iso(row.created_at.date()),
        "signed_at": dz.iso(row.created_at),
        "outcome": request.outcome,
        "outcome_label": outcome_label(request.outcome),
        "sha256": row.sha256,
        "status": verdict.status,
        "signers": _signers(verdict, ours=True),
        "verification_url": letters.verification_url(request),
    }


@tk.side_effect_free
def statrequest_verify(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Check a letter: by its verification code, by an uploaded PDF, or both.

    :param id: the letter's verification code (the end of its QR code's address); an unknown
        code, or a letter that is not signed yet, is not found
    :param upload: a PDF file; checked on its own, or against the letter of `id`
    :returns: ``status`` (None when no file was given, else valid | changed | untrusted |
        not_ours | damaged | unsigned | too_complex), ``title`` and ``message`` (plain words), ``reasons``,
        ``sha256`` and ``signers`` of the uploaded file, and ``letter``: the public facts of
        the letter of `id`, or of the uploaded file when it is one of ours
    """
    tk.check_access("statrequest_verify", context, data_dict)
    code = common.validate(data_dict, schema_delivery.verify(), context).get("id") or ""
    by_code = _by_code(code) if code else None
    upload = data_dict.get("upload")
    if upload in (None, "", tk.missing) or (hasattr(upload, "filename") and not upload.filename):
        if by_code is None:
            raise tk.ValidationError({"upload": [_("Please choose a PDF file.")]})
        row = _signed_letter(by_code)
        assert row is not None
        return {"status": None, "title": None, "message": None, "reasons": [], "sha256": None,
                "signers": [], "letter": _letter_record(by_code, row)}

    ratelimit.check_ip_rate("verify")  # uploads only: looking a code up is cheap (cached)
    content = _read(upload)
    verdict = checked(content)
    status = verdict.status
    matched: Request | None = None
    if status == "valid":
        # ours only if exactly these bytes are the signed reply of the letter it names
        # (or of the letter whose page this is)
        candidate = by_code or _by_number(verdict.letter_number)
        row = _signed_letter(candidate)
        # (an earlier version, before `ltv-refresh` renewed its archive timestamp, too)
        if row is not None and (row.sha256 == verdict.sha256 or (
                isinstance(candidate, Request)
                and verdict.sha256 in ltv.letter_versions(candidate))) and (
                by_code is not None or candidate.letter_number == verdict.letter_number):
            matched = candidate
        else:
            status = "not_ours"
    title, message = _words(status)
    shown = matched or by_code
    shown_row = _signed_letter(shown)
    return {
        "status": status,
        "title": title,
        "message": message,
        "reasons": list(verdict.reasons) + (["unknown_letter"] if status == "not_ours" else []),
        "sha256": verdict.sha256,
        "signers": _signers(verdict, ours=matched is not None),
        "checked_at": dz.iso(now_utc()),
        "letter": _letter_record(shown, shown_row) if shown and shown_row else None,
    }


# --- optional: publish the result as an open dataset of the OPD -----------------------------
# Two decisions are needed, in this order: the requester's consent, then the OPD's choice.
# Both are recorded as events of the request (public: the requester sees them), outside the
# workflow, which has ended by then.

CONSENT = "setuju_publikasi"
PUBLISHED = "terbitkan_terbuka"


def _event_of(request: Request, transition: str, **data: str) -> Event | None:
    stmt = select(Event).where(Event.request_id == request.id, Event.transition == transition)
    for key, value in data.items():
        stmt = stmt.where(Event.data[key].astext == value)
    return model.Session.scalars(stmt.order_by(Event.id).limit(1)).first()


def _log(request: Request, actor: access.Actor, role: str, transition: str, note: str,
         data: dict[str, Any]) -> Event:
    """Append an event; the version bump makes a concurrent duplicate fail, not double."""
    now = now_utc()
    try:
        version = records.guarded_update(request.id, request.version, {"updated_at": now})
    except records.StaleVersion:
        model.Session.rollback()
        raise common.stale_version() from None
    event = Event(request_id=request.id, actor_id=actor.user_id, actor_role=role, acting=False,
                  transition=transition, from_state=request.state, to_state=request.state,
                  note=note, visibility="public", data=data, version=version, created_at=now)
    model.Session.add(event)
    model.Session.commit()
    return event


def statrequest_publish_consent(context: dict[str, Any], data_dict: dict[str, Any]
                                ) -> dict[str, Any]:
    """The requester agrees that the OPD may publish the delivered data as open data.

    :param id: the request (id or tracking number), finished and (partly) fulfilled
    :returns: ``{"consent": True, "given_at": ...}``; giving it again changes nothing
    """
    data, request = common.target("statrequest_publish_consent", context, data_dict,
                                  schema_delivery.publish_consent(), common.get_request)
    event = _event_of(request, CONSENT) or _log(
        request, access.context_actor(context), access.REQUESTER, CONSENT, "", {})
    return {"request_id": request.id, "consent": True, "given_at": dz.iso(event.created_at)}


def statrequest_publish_open(context: dict[str, Any], data_dict: dict[str, Any]
                             ) -> dict[str, Any]:
    """An admin of a routed OPD publishes the files it provided as a public dataset of the
    OPD, once the requester has agreed. Repeating it returns the same dataset.

    :param id: the request (id or tracking number)
    :param organization: the OPD (id or name)
    :param title, notes, license_id: of the new dataset (optional; the request's title by
        default, never anything about the requester)
    :returns: ``{"package_id", "name"}``
    """
    data = common.validate(data_dict, schema_delivery.publish_open(), context)
    request = common.get_request(data["id"])
    organization = model.Group.get(data["organization"])
    if organization is None or not organization.is_organization:
        raise tk.ObjectNotFound(_("Organization not found"))
    tk.check_access("statrequest_publish_open", context,
                    {"id": request.id, "organization": organization.id})
    if _event_of(request, CONSENT) is None:
        raise tk.ValidationError({"consent": [_(
            "The requester has not agreed to publishing the data.")]})
    if not delivery.open_results(request, organization.id):
        raise tk.ValidationError({"organization": [_(
            "This agency provided no files for this request.")]})
    title = str(data.get("title") or request.title).strip()[:200]
    notes = str(data.get("notes") or _(
        "Data published by %(organization)s in answer to a request for sectoral statistical "
        "data.") % {"organization": organization.title or organization.name})
    package_id = delivery.publish_open(request, organization, title, notes,
                                       data.get("license_id") or None)
    if _event_of(request, PUBLISHED, package_id=package_id) is None:
        model.Session.refresh(request)
        _log(request, access.context_actor(context), access.OPD, PUBLISHED, "",
             {"package_id": package_id, "organization": organization.id})
    pkg = model.Package.get(package_id)
    return {"package_id": package_id, "name": pkg.name if pkg else None}


def _may(context: dict[str, Any], auth: str, data: dict[str, Any]) -> bool:
    try:
        tk.check_access(auth, {"user": context.get("user")}, data)
    except tk.NotAuthorized:
        return False
    return True


@tk.side_effect_free
def statrequest_publication_show(context: dict[str, Any], data_dict: dict[str, Any]
                                 ) -> dict[str, Any]:
    """Where the open publication of a request's delivered data stands (for its page): the
    requester's consent, and per OPD that provided files whether they are published and
    whether the caller may publish them now.

    :param id: the request (id or tracking number)
    :returns: ``{"publishable", "consent_given_at", "may_consent", "organizations": [...]}``
    """
    _data, request = common.target("statrequest_publication_show", context, data_dict,
                                   schema_delivery.publish_consent(), common.get_request)
    publishable = (request.state in settings.workflow().final
                   and request.outcome in OUTCOMES_WITH_DATA)
    consent = _event_of(request, CONSENT)
    organizations = []
    for org_id in sorted(access.routed_org_ids(request.id)) if publishable else []:
        files = delivery.open_results(request, org_id)
        group = model.Group.get(org_id)
        if not files or group is None:
            continue
        done = _event_of(request, PUBLISHED, organization=org_id)
        pkg = model.Package.get(done.data["package_id"]) if done is not None else None
        organizations.append({
            "id": org_id, "name": group.name, "title": group.title or group.name,
            "files": len(files),
            "package": {"id": pkg.id, "name": pkg.name, "title": pkg.title}
            if pkg is not None and pkg.state == "active" else None,
            "may_publish": consent is not None and _may(
                context, "statrequest_publish_open", {"id": request.id, "organization": org_id}),
        })
    return {
        "request_id": request.id,
        "publishable": publishable,
        "consent_given_at": dz.iso(consent.created_at) if consent is not None else None,
        "may_consent": publishable and consent is None and _may(
            context, "statrequest_publish_consent", {"id": request.id}),
        "organizations": organizations,
    }


@tk.chained_action
@tk.side_effect_free  # core's member_list is a GET action; a chain keeps only our flags
def member_list(next_action: Any, context: dict[str, Any], data_dict: dict[str, Any]
                ) -> list[Any]:
    """CKAN's member_list, without the delivery datasets the caller may not read.

    Core lists every dataset of an organisation, private ones included, to anyone; the ids of
    delivery datasets would tell outsiders that (and how many) requests were answered.
    """
    # core compares these with text columns unchecked: a number, a list or a NUL was a 500
    common.validate(data_dict, schema_delivery.member_list(), context)
    members = next_action(context, data_dict)
    ids = {m[0] for m in members if m[1] == "package"}
    if not ids:
        return members
    keep = delivery.visible_members(common.user(context), ids)
    return [m for m in members if m[1] != "package" or m[0] in keep]
