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

from ckanext.statrequest import attachments
from ckanext.statrequest.core.numbering import format_letter_number
from ckanext.statrequest.model import Attachment, Event, Position, Request

log = logging.getLogger(__name__)
_ = tk._

# Which pre-created signature field each position signs.
FIELDS = {"kepala_bidang": "Paraf1", "sekretaris": "Paraf2", "kepala_dinas": "TTE"}
transitioned = tk.signals.ckanext.signal("statrequest_transitioned")


def opt(name: str, default: Any = None) -> Any:
    value = tk.config.get(f"ckanext.statrequest.{name}")
    return default if value in (None, "") else value


def pki_dir() -> Path:
    return Path(opt("signing.pki_dir") or Path(tk.config.get("ckan.storage_path")) / "statrequest-pki")


def holder(position: str, on: dt.date | None = None) -> tuple[model.User | None, Position | None]:
    """The official holding a position today (a definitive holder before an acting one)."""
    on = on or dt.date.today()
    rows = model.Session.scalars(
        select(Position).where(
            Position.position == position, Position.revoked_at.is_(None),
            Position.valid_from <= on,
        ).order_by(Position.acting, Position.valid_from.desc())
    ).all()
    for row in rows:
        if row.valid_to is None or row.valid_to >= on:
            return model.User.get(row.user_id), row
    return None, None


def _name(user: model.User | None) -> str:
    return (user.fullname or user.name) if user else "-"


def verification_url(request: Request) -> str:
    """The QR target; built from the site URL so that jobs and the CLI make the same link."""
    return (tk.config.get("ckan.site_url").rstrip("/")
            + f"/permintaan-data/verifikasi/{request.verification_code}")


def letter_data(request: Request, files: list[Attachment]) -> Any:
    from ckanext.statrequest.documents.letter import DeliveredFile, LetterData, LetterHead

    head_user, head_pos = holder("kepala_dinas")
    kabid, _p1 = holder("kepala_bidang")
    sekretaris, _p2 = holder("sekretaris")
    reason = _last_note(request, ("tolak", "hasil_sesuai", "data_tidak_tersedia"))
    return LetterData(
        letterhead=LetterHead(
            name_lines=tuple(tk.aslist(opt("letter.agency_lines"), sep="|")),
            address=opt("letter.address", ""),
            phone=opt("letter.phone", ""), email=opt("letter.email", ""),
            website=opt("letter.website", ""),
        ),
        letter_number=request.letter_number or "",
        place=opt("letter.place", ""),
        date=dt.date.today(),
        hal="Jawaban Permohonan Data",  # the letter is an Indonesian official document
        addressee_name=request.requester_name,
        addressee_institution=request.institution or "",
        addressee_address=request.address or "",
        outcome=request.outcome,
        reason=reason or ("-" if request.outcome in ("ditolak", "dipenuhi_sebagian") else ""),
        requested_data_title=request.title,
        request_number=request.tracking_number,
        request_date=request.received_at.date(),
        signer_name=_name(head_user),
        signer_nip=head_pos.nip if head_pos else "",
        signer_position=opt("letter.signer_title", ""),
        signer_acting="Plt." if head_pos is not None and head_pos.acting else "",
        paraf1_name=_name(kabid),
        paraf2_name=_name(sekretaris),
        verification_url=verification_url(request),
        files=[DeliveredFile(a.name, a.size, a.sha256) for a in files],
        tembusan=tuple(tk.aslist(opt("letter.tembusan", ""), sep="|")),
        record={
            "tracking_number": request.tracking_number, "letter_number": request.letter_number,
            "title": request.title, "outcome": request.outcome,
            "received_at": request.received_at.isoformat(),
            "files": [{"name": a.name, "sha256": a.sha256, "size": a.size} for a in files],
        },
    )


def _last_note(request: Request, transitions: tuple[str, ...]) -> str:
    return model.Session.scalar(
        select(Event.note).where(Event.request_id == request.id,
                                 Event.transition.in_(transitions))
        .order_by(Event.id.desc()).limit(1)
    ) or ""


def _results(request: Request) -> list[Attachment]:
    return list(model.Session.scalars(
        select(Attachment).where(Attachment.request_id == request.id,
                                 Attachment.kind == "result", Attachment.deleted_at.is_(None))
        .order_by(Attachment.created_at)))


def _current_letter(request: Request) -> tuple[Attachment, bytes]:
    row = model.Session.get(Attachment, request.letter_attachment_id or "")
    if row is None or row.deleted_at is not None or row.file_id is None:
        raise tk.ValidationError({"letter": [_("There is no draft reply letter to sign.")]})
    return row, b"".join(attachments.read(row.file_id))


def _keep(request: Request, kind: str, name: str, pdf: bytes, written: attachments.Written,
          actor_id: str | None) -> Attachment:
    """Store a letter PDF and make it the request's current letter."""
    prepared = attachments.Prepared(kind, name, pdf, attachments.PDF,
                                    hashlib.sha256(pdf).hexdigest())
    file_id = attachments.store(prepared, request.id, written, None)
    previous = model.Session.get(Attachment, request.letter_attachment_id or "")
    if previous is not None and previous.kind == "draft_reply":
        previous.deleted_at = dt.datetime.now(dt.timezone.utc)  # superseded
    row = Attachment(request_id=request.id, kind=kind, file_id=file_id, name=name,
                     size=len(pdf), media_type=attachments.PDF, sha256=prepared.sha256,
                     uploaded_by=actor_id, created_at=dt.datetime.now(dt.timezone.utc))
    model.Session.add(row)
    model.Session.flush()
    request.letter_attachment_id = row.id
    return row


def draft(request: Request, written: attachments.Written, actor_id: str | None) -> Attachment:
    """Render a new draft with empty signature fields; earlier paraf no longer count."""
    from ckanext.statrequest.documents.letter import LetterRenderError, prepare_letter
    from ckanext.statrequest.records import next_number

    if not request.outcome:
        raise tk.ValidationError({"outcome": [_("The outcome has not been decided yet.")]})
    if not request.letter_number:  # assigned once, from a per-year counter
        today = dt.date.today()
        seq = next_number("letter", today.year)
        request.letter_number = format_letter_number(
            opt("letter.number_pattern", "{seq:03d}/DISKOMINFO/{bulan_romawi}/{tahun}"), seq, today)
    if not request.verification_code:
        request.verification_code = secrets.token_urlsafe(12)
    try:
        rendered = prepare_letter(letter_data(request, _results(request)))
    except LetterRenderError as exc:
        raise tk.ValidationError({"letter": [_("The reply letter could not be made: %(e)s")
                                             % {"e": exc}]}) from exc
    return _keep(request, "draft_reply", f"draf-balasan-{request.tracking_number}.pdf",
                 rendered.pdf, written, actor_id)


def backend_for(position: str) -> Any:
    from ckanext.statrequest.documents import signers

    kind = opt(f"signing.{position}.backend") or opt("signing.backend", "pkcs12")
    if kind == "pkcs12":
        p12 = opt(f"signing.{position}.p12") or pki_dir() / f"{position}.p12"
        chain = tk.aslist(opt(f"signing.{position}.chain") or opt("signing.chain")
                          or str(pki_dir() / "ca-chain.pem"))
        return signers.Pkcs12Backend(p12, [c for c in chain if Path(c).exists()])
    if kind == "pkcs11":
        return signers.Pkcs11Backend(
            opt(f"signing.{position}.pkcs11_lib", "/usr/lib/softhsm/libsofthsm2.so"),
            opt(f"signing.{position}.token_label"), opt(f"signing.{position}.key_label"),
            opt(f"signing.{position}.cert_label"))
    if kind == "remote":
        return signers.RemoteBsreBackend(opt(f"signing.{position}.remote_url"),
                                         opt(f"signing.{position}.nik"))
    raise tk.ValidationError({"passphrase": [_("No signing method is configured.")]})


def sign(request: Request, position: str, secret: str, written: attachments.Written,
         actor_id: str | None, final: bool) -> Attachment:
    """Apply this position's paraf or signature to the current letter."""
    from ckanext.statrequest.documents import signers

    field = FIELDS.get(position)
    if field is None:
        raise tk.ValidationError({"transition": [_("This position does not sign letters.")]})
    _row, pdf = _current_letter(request)
    reason = "Tanda tangan elektronik" if final else "Paraf"
    meta = signers.SignMeta(reason=reason, location=opt("letter.place"))
    try:
        signed = signers.sign_sync(backend_for(position), pdf, field, meta, secret)
    except signers.SigningError as exc:
        # the message never contains the secret; the code says what went wrong
        log.info("signing failed for %s (%s): %s", request.tracking_number, position, exc.code)
        raise tk.ValidationError({"passphrase": [_(exc.message)]}) from None
    kind = "signed_reply" if final else "draft_reply"
    name = (f"surat-balasan-{request.tracking_number}.pdf" if final
            else f"draf-balasan-{request.tracking_number}.pdf")
    return _keep(request, kind, name, signed, written, actor_id)


def apply(effect: str, request: Request, event: Event, actor: Any, secret: str,
          written: attachments.Written) -> None:
    """The letter effect of a transition (`draft`, `paraf` or `sign`)."""
    if effect == "draft":
        row = draft(request, written, actor.user_id)
    else:
        row = sign(request, event.actor_role, secret, written, actor.user_id,
                   final=effect == "sign")
    event.data = {**(event.data or {}), "letter": row.id, "letter_sha256": row.sha256}


def after_commit(request_id: str, transition: str) -> None:
    """Tell subscribers (notifications, delivery) that a transition was committed."""
    transitioned.send(transition, request_id=request_id)
