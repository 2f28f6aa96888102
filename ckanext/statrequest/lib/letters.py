"""The reply letter on a request: drafts, paraf and the final signature.

Rendering and signing live in `documents/` (no CKAN there); this module feeds them the
request, the officials who hold the positions, and the portal's letter and signing settings,
and keeps the resulting PDFs as attachments. It runs inside the transition's transaction, so
a failed signature (wrong passphrase, unreachable service) writes nothing.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from pathlib import Path
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import select

from ckanext.statrequest import settings
from ckanext.statrequest.core.numbering import format_letter_number
from ckanext.statrequest.core.vocabulary import (
    DEFINITIVE,
    OUTCOMES_WITH_REASON,
    POSITION_KIND_PREFIX,
    ZONE_ABBREVIATIONS,
)
from ckanext.statrequest.lib import attachments, reasons
from ckanext.statrequest.model import (
    Attachment,
    Event,
    Position,
    Request,
    SigningCredential,
    now,
)

log = logging.getLogger(__name__)
_ = tk._


def paraf_fields() -> dict[str, str]:
    """The paraf box each initialling position fills, from the workflow: its paraf positions
    in order, Paraf1 and Paraf2."""
    from ckanext.statrequest.documents.layout import PARAF1, PARAF2

    return dict(zip(settings.workflow().paraf_positions(), (PARAF1, PARAF2), strict=False))


def fields() -> dict[str, str]:
    """Who fills each pre-created signature field (field -> position): the paraf boxes, then
    TTE, the workflow's signer."""
    from ckanext.statrequest.documents.layout import TTE

    out = {field: position for position, field in paraf_fields().items()}
    signer = settings.workflow().letter_signer()
    if signer:
        out[TTE] = signer
    return out


def signer_position() -> str:
    """The position whose title heads the signature: "a.n." that of on_behalf_of, else the
    signer's own."""
    wf = settings.workflow()
    return wf.letter_on_behalf_of() or wf.letter_signer() or ""

transitioned = tk.signals.ckanext.signal("statrequest_transitioned")


def pki_dir() -> Path:
    return Path(settings.get("signing.pki_dir") or settings.storage_path() / "statrequest-pki")


# --- who holds a position, and for whom they act ----------------------------------------------

def _active(position: str, on: dt.date) -> list[Position]:
    """Assignments in force on a day: definitive holders first, then the latest acting one."""
    rows = model.Session.scalars(
        select(Position).where(
            Position.position == position, Position.revoked_at.is_(None),
            Position.valid_from <= on,
        ).order_by(Position.kind != DEFINITIVE, Position.valid_from.desc())
    ).all()
    return [r for r in rows if r.valid_to is None or r.valid_to >= on]


def holder(position: str, on: dt.date | None = None) -> tuple[model.User | None, Position | None]:
    """The official holding a position on a day (a definitive holder before an acting one)."""
    for row in _active(position, on or dt.date.today()):
        return model.User.get(row.user_id), row
    return None, None


def assignment(user_id: str | None, position: str, on: dt.date | None = None
               ) -> Position | None:
    """The user's OWN assignment to a position on a day (definitive before acting)."""
    if not user_id:
        return None
    return next((r for r in _active(position, on or dt.date.today()) if r.user_id == user_id),
                None)


def stood_in_for(row: Position, on: dt.date | None = None) -> model.User | None:
    """Whom a Plt/Plh stands in for: the named official, else the definitive holder."""
    if row.kind == DEFINITIVE:
        return None
    if row.stands_in_for:
        return model.User.get(row.stands_in_for)
    for other in _active(row.position, on or dt.date.today()):
        if other.kind == DEFINITIVE and other.user_id != row.user_id:
            return model.User.get(other.user_id)
    return None


def _person(user: model.User | None) -> dict[str, str] | None:
    return {"id": user.id, "name": _name(user)} if user is not None else None


def acting_data(user_id: str | None, position: str) -> dict[str, Any]:
    """Event data of a step taken by an acting official: the kind, and on whose behalf."""
    row = assignment(user_id, position)
    if row is None or row.kind == DEFINITIVE:
        return {}
    return {"acting_kind": row.kind, "on_behalf_of": _person(stood_in_for(row))}


def position_title(position: str) -> str:
    """A position's title as printed on letters."""
    configured = settings.dynamic(f"letter.title.{position}")
    if configured:
        return str(configured)
    if position == signer_position() and settings.get("letter.signer_title"):
        return str(settings.get("letter.signer_title"))
    label = settings.workflow().positions.get(position)
    return label.id if label else position


def _name(user: model.User | None) -> str:
    return (user.fullname or user.name) if user else "-"


def verification_url(request: Request) -> str:
    """The QR target; built from the site URL so that jobs and the CLI make the same link."""
    return verification_link(request.verification_code or "")


def verification_link(code: str) -> str:
    """The verification page of the letter with this code (a reply, or a decision)."""
    return f"{settings.site_url()}/permintaan-data/verifikasi/{code}"


def _logo() -> bytes | str:
    path = settings.get("letter.logo")
    if not path:
        return "logo-default.svg"
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        log.error("letter logo %s cannot be read: %s", path, exc)
        raise tk.ValidationError({"letter": [_("The letterhead logo cannot be read.")]}) from None


def letterhead() -> Any:
    """The kop surat of every letter, from the letter.* options."""
    from ckanext.statrequest.documents.letter import LetterHead

    return LetterHead(
        name_lines=tuple(x for x in tk.aslist(settings.get("letter.agency_lines", ""), sep="|") if x),
        address=settings.get("letter.address", ""),
        phone=settings.get("letter.phone", ""), email=settings.get("letter.email", ""),
        website=settings.get("letter.website", ""), logo=_logo(),
    )


def letter_data(request: Request, files: list[Attachment]) -> Any:
    from ckanext.statrequest.documents.letter import DeliveredFile, LetterData

    wf = settings.workflow()
    reason = _last_note(request, wf.letter_reason_from)
    ground = reasons.of_request(request.id) if request.outcome in OUTCOMES_WITH_REASON else None
    if ground:  # the letter is Indonesian: the ground's Indonesian label, then the free text
        label = ground["label"]["id"].rstrip(". ")
        reason = f"{label}. {reason}" if reason else f"{label}."
    paraf = wf.paraf_positions()
    return LetterData(
        letterhead=letterhead(),
        letter_number=request.letter_number or "",
        place=settings.get("letter.place", ""),
        date=dt.date.today(),  # drafted; the letter's date is the final signature's
        hal="Jawaban Permohonan Data",  # the letter is an Indonesian official document
        addressee_name=request.requester_name,
        addressee_institution=request.institution or "",
        addressee_address=request.address or "",
        outcome=request.outcome,
        reason=reason or ("-" if request.outcome in OUTCOMES_WITH_REASON else ""),
        requested_data_title=request.title,
        request_number=request.tracking_number,
        request_date=request.received_at.date(),
        signer_position=position_title(signer_position()),
        # a workflow with fewer paraf has fewer boxes on the letter (an empty title: none)
        paraf1_title=position_title(paraf[0]) if len(paraf) > 0 else "",
        paraf2_title=position_title(paraf[1]) if len(paraf) > 1 else "",
        verification_url=verification_url(request),
        files=[DeliveredFile(a.name, a.size, a.sha256) for a in files],
        datasets=_linked_datasets(request),  # an OPD answered with a dataset on the portal
        # an empty setting is no copy at all (aslist of "" would give one empty line)
        tembusan=tuple(x.strip() for x in tk.aslist(settings.get("letter.tembusan", ""), sep="|")
                       if x.strip()),
        record={
            "tracking_number": request.tracking_number, "letter_number": request.letter_number,
            "title": request.title, "outcome": request.outcome,
            "reason": ground["code"] if ground else None,
            "received_at": request.received_at.isoformat(),
            "files": [{"name": a.name, "sha256": a.sha256, "size": a.size} for a in files],
        },
    )


def _linked_datasets(request: Request) -> tuple[dict[str, Any], ...]:
    """The datasets OPD answered with (recorded on their answer's event), latest per dataset."""
    found: dict[str, dict[str, Any]] = {}
    for data in model.Session.scalars(
            select(Event.data).where(Event.request_id == request.id,
                                     Event.data.has_key("linked_dataset")).order_by(Event.id)):
        found[data["linked_dataset"]["id"]] = data["linked_dataset"]
    return tuple(found.values())


def _last_note(request: Request, transitions: tuple[str, ...]) -> str:
    return model.Session.scalar(
        select(Event.note).where(Event.request_id == request.id,
                                 Event.transition.in_(transitions))
        .order_by(Event.id.desc()).limit(1)
    ) or ""


def _current_letter(request: Request) -> tuple[Attachment, bytes]:
    row = model.Session.get(Attachment, request.letter_attachment_id or "")
    if row is None or row.deleted_at is not None or row.file_id is None:
        raise tk.ValidationError({"letter": [_("There is no draft reply letter to sign.")]})
    return row, b"".join(attachments.read(row.file_id))


def _keep(request: Request, kind: str, name: str, pdf: bytes, written: attachments.Written,
          actor_id: str | None) -> Attachment:
    """Store a letter PDF and make it the request's current letter."""
    previous = model.Session.get(Attachment, request.letter_attachment_id or "")
    if previous is not None and previous.kind == "draft_reply":
        previous.deleted_at = now()  # superseded
    row = store_pdf(request, kind, name, pdf, written, actor_id)
    request.letter_attachment_id = row.id
    return row


def store_pdf(request: Request, kind: str, name: str, pdf: bytes,
              written: attachments.Written, actor_id: str | None) -> Attachment:
    """Keep a letter PDF as an attachment of the request, in the caller's transaction."""
    prepared = attachments.Prepared(kind, name, pdf, attachments.PDF,
                                    hashlib.sha256(pdf).hexdigest())
    file_id = attachments.store(prepared, request.id, written, None)
    row = Attachment(request_id=request.id, kind=kind, file_id=file_id, name=name,
                     size=len(pdf), media_type=attachments.PDF, sha256=prepared.sha256,
                     uploaded_by=actor_id, created_at=now())
    model.Session.add(row)
    model.Session.flush()
    return row


def next_letter_number() -> str:
    """A new outgoing letter number: one per-year counter for every letter the office signs
    (replies and objection decisions), so no two letters share a number."""
    from ckanext.statrequest.lib.records import next_number

    today = dt.date.today()
    seq = next_number("letter", today.year)
    try:
        return format_letter_number(
            settings.get("letter.number_pattern", "{kode}/{seq:03d}/DISKOMINFO/{tahun}"), seq, today,
            classification=settings.get("letter.classification_code", "500.12.11.3"))
    except ValueError as exc:  # a misconfigured pattern or code: say so, write nothing
        log.error("letter number: %s", exc)
        raise tk.ValidationError({"letter": [_(
            "The letter number pattern or classification code is misconfigured.")]}) from None


def draft(request: Request, written: attachments.Written, actor_id: str | None) -> Attachment:
    """Render a new draft with empty signature fields; earlier paraf no longer count."""
    from ckanext.statrequest.documents.letter import LetterRenderError, prepare_letter

    if not request.outcome:
        raise tk.ValidationError({"outcome": [_("The outcome has not been decided yet.")]})
    if not request.letter_number:  # assigned once, from a per-year counter
        request.letter_number = next_letter_number()
    if not request.verification_code:
        request.verification_code = secrets.token_urlsafe(12)
    try:
        rendered = prepare_letter(letter_data(request, attachments.results(request.id)))
    except LetterRenderError as exc:
        raise tk.ValidationError({"letter": [_("The reply letter could not be made: %(e)s")
                                             % {"e": exc}]}) from exc
    return _keep(request, "draft_reply", f"draf-balasan-{request.tracking_number}.pdf",
                 rendered.pdf, written, actor_id)


# --- signing credentials: one per person -------------------------------------------------

def credential_for(user_id: str | None) -> SigningCredential | None:
    """The user's active signing credential (keys belong to people, never to positions)."""
    if not user_id:
        return None
    return model.Session.scalars(
        select(SigningCredential).where(SigningCredential.user_id == user_id,
                                        SigningCredential.revoked_at.is_(None))).first()


def p12_path(reference: str) -> Path:
    """A PKCS#12 reference: a file inside the signing folder (no other path on the server)."""
    folder = pki_dir().resolve()
    path = (folder / reference).resolve()
    if not path.is_relative_to(folder) or path == folder:
        raise ValueError("the key file must be inside the signing folder")
    return path


def signing_trust_roots() -> list[Any]:
    """Roots the signers' chains must lead to (signing.trust_roots, else the PKI's root)."""
    from ckanext.statrequest.documents.certs import load_pem_certs

    paths = tk.aslist(settings.get("signing.trust_roots", ""))
    if not paths:
        paths = [str(p) for p in (pki_dir() / "root.pem", pki_dir() / "root-ca.pem")
                 if p.exists()][:1]
    roots: list[Any] = []
    for path in paths:
        try:
            roots.extend(load_pem_certs(path))
        except (OSError, ValueError):
            log.error("trust root %s cannot be read", path)
    return roots


def signing_options(position: str) -> Any:
    """PAdES level of this position's signature (the signing.* options).

    With a TSA: B-T; plus revocation data (signing.ltv): B-LT; the final signature also gets a
    document timestamp: B-LTA. Paraf get the same B-LT (signing.paraf_ltv) so that each of
    them still validates after its certificate expires. None: B-B (no TSA configured).
    """
    from ckanext.statrequest.documents.signers import SignOptions

    url = settings.get("signing.tsa_url")
    if not url:
        return None
    final = position == settings.workflow().letter_signer()
    ltv = tk.asbool(settings.get("signing.ltv", True)) and (
        final or tk.asbool(settings.get("signing.paraf_ltv", True)))
    user = settings.get("signing.tsa_username")
    roots = signing_trust_roots() if ltv else []
    return SignOptions(
        timestamper_url=url,
        timestamper_auth=(user, settings.get("signing.tsa_password", "")) if user else None,
        embed_validation_info=bool(ltv and roots), trust_roots=roots,
        lta_on_final=bool(final and ltv and roots),
        http_timeout=float(settings.get("signing.http_timeout", 20)),
    )


def revocation_check() -> Any:
    """How the verification page learns current revocation status: from the configured OCSP/CRL
    addresses (signing.revocation_urls) only, hard-fail unless signing.revocation_hard_fail is
    off; None: offline (embedded data, soft-fail)."""
    from ckanext.statrequest.documents.verify import RevocationCheck

    prefixes = tuple(tk.aslist(settings.get("signing.revocation_urls", "")))
    if not prefixes:
        return None
    hard_fail = tk.asbool(settings.get("signing.revocation_hard_fail", True))
    return RevocationCheck(prefixes, hard_fail=hard_fail,
                           timeout=float(settings.get("signing.http_timeout", 20)))


def backend_for(credential: SigningCredential, position: str) -> Any:
    """The signing backend of one person's credential."""
    from ckanext.statrequest.documents import signers

    own = credential.settings or {}  # the credential's own settings
    if credential.backend == "pkcs12":
        chain = tk.aslist(settings.dynamic(f"signing.{position}.chain")
                          or settings.get("signing.chain") or str(pki_dir() / "ca-chain.pem"))
        return signers.Pkcs12Backend(p12_path(credential.reference),
                                     [c for c in chain if Path(c).exists()],
                                     options=signing_options(position))
    if credential.backend == "pkcs11":
        return signers.Pkcs11Backend(
            own.get("pkcs11_lib") or settings.dynamic("signing.pkcs11_lib")
            or settings.dynamic(f"signing.{position}.pkcs11_lib",
                                "/usr/lib/softhsm/libsofthsm2.so"),
            credential.reference, own.get("key_label") or credential.reference,
            own.get("cert_label") or own.get("key_label") or credential.reference,
            options=signing_options(position))
    if credential.backend == "remote":
        url = (settings.get("signing.remote_url")
               or settings.dynamic(f"signing.{position}.remote_url"))
        if not url:
            raise tk.ValidationError({"passphrase": [_("No signing method is configured.")]})
        user = settings.get("signing.remote_username")
        return signers.RemoteBsreBackend(
            url, credential.reference, auth=(user, settings.get("signing.remote_password", ""))
            if user else None, trust_roots=signing_trust_roots(),
            options=signing_options(position))
    raise tk.ValidationError({"passphrase": [_("No signing method is configured.")]})


def certificate_facts(cert: Any) -> dict[str, Any]:
    """What the portal keeps of a certificate (asn1crypto): fingerprint, names, expiry."""
    return {
        "cert_fingerprint": hashlib.sha256(cert.dump()).hexdigest(),
        "cert_subject": cert.subject.human_friendly,
        "cert_issuer": cert.issuer.human_friendly,
        "cert_not_after": cert.not_valid_after,
    }


class _WrongCertificate(Exception):
    pass


def _local_now() -> dt.datetime:
    return settings.calendar().localize(now())


def _appearance(url: str, pdf: bytes, field: str, final: bool, credential:
                SigningCredential, user: model.User, row: Position | None,
                on_behalf: str | None, seen: dict[str, Any]) -> Any:
    """The hook that checks the unlocked certificate and draws what the field shows."""
    from ckanext.statrequest.documents import appearance, letter

    size = appearance.field_size(pdf, field)
    signed_at = _local_now()
    prefix = POSITION_KIND_PREFIX.get(row.kind, "") if row is not None else ""

    def draw(cert: Any) -> bytes:
        facts = certificate_facts(cert)
        if credential.cert_fingerprint and facts["cert_fingerprint"] != credential.cert_fingerprint:
            # the key file / token does not hold the certificate registered for this person
            raise _WrongCertificate()
        seen.update(facts)
        if not final:
            return letter.render_paraf_mark(letter.ParafMark(
                name=_name(user), when=signed_at.replace(tzinfo=None), acting=prefix,
                zone=ZONE_ABBREVIATIONS.get(str(settings.get("timezone")), "")), size)
        return letter.render_signature_block(letter.SignatureBlock(
            place=settings.get("letter.place", ""), date=signed_at.date(),
            title=position_title(row.position if row is not None
                                 else settings.workflow().letter_signer() or ""),
            signer_name=_name(user), verification_url=url,
            acting=prefix, on_behalf_of=position_title(on_behalf) if on_behalf else "",
            rank=row.rank if row is not None else "", nip=row.nip if row is not None else "",
            issuer_statement=letter.issuer_statement(cert.issuer.native)), size)

    return draw


def sign(request: Request, position: str, secret: str, written: attachments.Written,
         actor_id: str | None, final: bool, on_behalf: str | None = None
         ) -> tuple[Attachment, dict[str, Any]]:
    """Apply the actor's own paraf or signature to the current letter.

    The key used is the credential of the user who signs, never another person's; a user
    without one is refused before anything is signed.
    """
    _row, pdf = _current_letter(request)
    signed, signer = sign_pdf(request, position, pdf, verification_url(request), secret,
                              actor_id, final, on_behalf)
    kind = "signed_reply" if final else "draft_reply"
    name = (f"surat-balasan-{request.tracking_number}.pdf" if final
            else f"draf-balasan-{request.tracking_number}.pdf")
    return _keep(request, kind, name, signed, written, actor_id), signer


def sign_pdf(request: Request, position: str, pdf: bytes, url: str, secret: str,
             actor_id: str | None, final: bool, on_behalf: str | None = None
             ) -> tuple[bytes, dict[str, Any]]:
    """Sign `pdf` (a letter of `request` whose QR leads to `url`) with the actor's own
    credential: the signed bytes, and what the event records of the signer."""
    from ckanext.statrequest.documents import signers
    from ckanext.statrequest.documents.layout import TTE
    from ckanext.statrequest.documents.letter import LetterRenderError

    field = TTE if final else paraf_fields().get(position)
    if field is None or (not final and field == TTE):
        raise tk.ValidationError({"transition": [_("This position does not sign letters.")]})
    credential = credential_for(actor_id)
    user = model.User.get(actor_id) if actor_id else None
    if credential is None or user is None:
        raise tk.ValidationError({"passphrase": [_(
            "You have no signing credential; ask the administrator.")]})
    row = assignment(actor_id, position)
    prefix = POSITION_KIND_PREFIX.get(row.kind, "") if row is not None else ""
    what = "Tanda tangan elektronik" if final else "Paraf"
    title = " ".join(p for p in (prefix, position_title(position)) if p)
    if on_behalf:
        title = f"a.n. {position_title(on_behalf)}, {title}"
    seen: dict[str, Any] = {}
    meta = signers.SignMeta(
        reason=f"{what} {title}", location=settings.get("letter.place") or None,
        appearance=_appearance(url, pdf, field, final, credential, user, row, on_behalf,
                               seen))
    try:
        backend = backend_for(credential, position)
        signed = signers.sign_sync(backend, pdf, field, meta, secret)
    except _WrongCertificate:
        log.warning("signing refused for %s: the key of credential %s holds another certificate",
                    request.tracking_number, credential.id)
        raise tk.ValidationError({"passphrase": [_(
            "Your key does not hold the certificate registered for you; ask the "
            "administrator.")]}) from None
    except (ValueError, LetterRenderError) as exc:
        log.error("signing set-up failed for %s: %s", request.tracking_number, exc)
        raise tk.ValidationError({"passphrase": [_(
            "Your signing credential cannot be used; ask the administrator.")]}) from None
    except signers.SigningError as exc:
        # the message never contains the secret; the code says what went wrong
        log.info("signing failed for %s (%s): %s", request.tracking_number, position, exc.code)
        raise tk.ValidationError({"passphrase": [_(exc.message)]}) from None
    signer = {"credential": credential.id, "backend": credential.backend,
              "certificate_subject": seen.get("cert_subject") or credential.cert_subject,
              "certificate_fingerprint": seen.get("cert_fingerprint")
              or credential.cert_fingerprint}
    return signed, signer


def apply(effect: str, request: Request, event: Event, actor: Any, secret: str,
          written: attachments.Written) -> None:
    """The letter effect of a transition (`draft`, `paraf` or `sign`)."""
    data: dict[str, Any] = {}
    if effect == "draft":
        row = draft(request, written, actor.user_id)
    else:
        t = settings.workflow().transitions.get(event.transition)
        on_behalf = t.on_behalf_of if t is not None and effect == "sign" else None
        row, data["signer"] = sign(request, event.actor_role, secret, written, actor.user_id,
                                   final=effect == "sign", on_behalf=on_behalf)
        if on_behalf:
            user, _pos = holder(on_behalf)
            data["atas_nama"] = {"position": on_behalf, **(_person(user) or {})}
    event.data = {**(event.data or {}), **data, "letter": row.id, "letter_sha256": row.sha256}


def signing_positions() -> list[str]:
    """Positions whose steps put a paraf or signature on the letter (workflow order)."""
    wf = settings.workflow()
    return list(dict.fromkeys(t.actor for t in wf.transitions.values()
                              if t.letter in ("paraf", "sign")))


def signing_people(on: dt.date | None = None) -> dict[str, tuple[model.User, Position]]:
    """Everyone who holds, or is appointed to hold, a signing position from a day on
    (definitive holders, Plt and Plh alike), by user name."""
    on = on or dt.date.today()
    people: dict[str, tuple[model.User, Position]] = {}
    rows = model.Session.scalars(select(Position).where(
        Position.position.in_(signing_positions()), Position.revoked_at.is_(None),
        (Position.valid_to.is_(None)) | (Position.valid_to >= on),
    ).order_by(Position.kind != DEFINITIVE, Position.valid_from)).all()
    for row in rows:
        user = model.User.get(row.user_id)
        if user is not None and user.state == "active":
            people.setdefault(user.name, (user, row))
    return people


def register_test_credentials(manifest: dict[str, Any], site_user: str) -> list[str]:
    """Give each person of a test PKI manifest (labels = user names) their own credential,
    unless they already have this very certificate. Returns the names registered."""
    done = []
    folder = pki_dir().resolve()
    for label, entry in manifest["signers"].items():
        user = model.User.get(label)
        p12 = Path(entry["p12"]).resolve()
        if user is None or not p12.is_relative_to(folder):
            continue  # a position label, or a PKI outside the signing folder
        cert = Path(entry["cert"]).read_bytes()
        from ckanext.statrequest.documents.certs import load_certs_data

        fingerprint = certificate_facts(load_certs_data(cert)[0])["cert_fingerprint"]
        current = credential_for(user.id)
        if current is not None and current.cert_fingerprint == fingerprint:
            continue
        tk.get_action("statrequest_credential_set")(
            {"user": site_user, "ignore_auth": True},
            {"user": user.id, "backend": "pkcs12", "reference": str(p12.relative_to(folder)),
             "certificate": cert.decode("ascii")})
        done.append(label)
    return done


def after_commit(request_id: str, transition: str, outbox: list[int] | None = None) -> None:
    """Tell subscribers (notifications, delivery) that a transition was committed; `outbox`:
    the ids of the emails the step committed with it, to enqueue now."""
    transitioned.send(transition, request_id=request_id, outbox=outbox)
