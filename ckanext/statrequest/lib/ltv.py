"""Keeping signed letters verifiable for decades: renewing their archive timestamp.

A letter signed at PAdES B-LTA ends with a document timestamp. That timestamp proves everything
before it (signatures, their revocation data) existed at its time, but only as long as the
TSA's certificate that made it can itself be validated. Before that certificate expires a new
document timestamp (from a current TSA certificate), with the revocation data of the old one,
extends the proof (`ckan statrequest ltv-refresh`, run by cron).

The new bytes are a new version of the letter (a new attachment row becomes the request's
letter; the previous row is kept, marked superseded, with its SHA-256): a copy of an earlier
version that someone downloaded stays a valid letter of this portal.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from typing import Any

import ckan.model as model
from sqlalchemy import select

from ckanext.statrequest import settings
from ckanext.statrequest.lib import attachments, letters
from ckanext.statrequest.model import Attachment, Request
from ckanext.statrequest.model import now as utc_now

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Outcome:
    request_id: str
    tracking_number: str
    action: str  # refreshed | not_due | same_tsa_certificate | no_timestamp | failed
    expires: dt.datetime | None = None
    detail: str = ""


def _current_tsa_certificate(options: Any) -> Any:
    """The certificate the TSA signs with today (one token asked for)."""
    import aiohttp
    from pyhanko.sign.general import extract_certificate_info
    from pyhanko.sign.timestamps import HTTPTimeStamper

    from ckanext.statrequest.documents._aio import run_sync

    async def ask() -> Any:
        async with aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=options.http_timeout)) as session:
            stamper = HTTPTimeStamper(options.timestamper_url, session=session,
                                      auth=options.timestamper_auth,
                                      timeout=options.http_timeout)
            return await stamper.async_dummy_response("sha256")

    token = run_sync(ask())
    return extract_certificate_info(token["content"]).signer_cert


def signed_letters() -> list[tuple[Request, Attachment]]:
    rows = model.Session.execute(
        select(Request, Attachment).join(Attachment, Attachment.id == Request.letter_attachment_id)
        .where(Attachment.kind == "signed_reply", Attachment.deleted_at.is_(None),
               Attachment.file_id.is_not(None))
        .order_by(Request.tracking_number)).all()
    return [(r, a) for r, a in rows]


def refresh(days: int, *, dry_run: bool = False) -> list[Outcome]:
    """Renew the archive timestamp of every signed letter whose last timestamp's TSA
    certificate expires within ``days``. Idempotent: a letter whose last timestamp was already
    made with the TSA's current certificate is left alone (a new one would not last longer)."""
    from ckanext.statrequest.documents import signers

    options = letters.signing_options(settings.workflow().letter_signer() or "")
    if options is None or not options.trust_roots:
        raise RuntimeError("no TSA (ckanext.statrequest.signing.tsa_url) or trust roots "
                           "configured: nothing to renew the timestamps with")
    limit = utc_now() + dt.timedelta(days=days)
    current = None
    outcomes: list[Outcome] = []
    for request, row in signed_letters():
        pdf = b"".join(attachments.read(row.file_id or ""))
        outcome = Outcome(request.id, request.tracking_number, "not_due")
        outcomes.append(outcome)
        try:
            expires = signers.last_timestamp_expiry(pdf)
        except Exception as exc:  # noqa: BLE001 - one unreadable letter must not stop the run
            outcome.action, outcome.detail = "failed", f"unreadable: {type(exc).__name__}"
            continue
        outcome.expires = expires
        if expires is None:
            outcome.action = "no_timestamp"
            continue
        if expires > limit:
            continue
        if current is None:
            current = _current_tsa_certificate(options)
        if current is not None and current.not_valid_after <= expires:
            outcome.action = "same_tsa_certificate"
            outcome.detail = "the TSA's current certificate does not last longer"
            continue
        if dry_run:
            outcome.action = "due"
            continue
        try:
            renewed = signers.sign_sync_refresh(pdf, options)
        except signers.SigningError as exc:
            outcome.action, outcome.detail = "failed", exc.code
            continue
        _store(request, row, renewed)
        outcome.action = "refreshed"
        outcome.expires = signers.last_timestamp_expiry(renewed)
    return outcomes


def _store(request: Request, previous: Attachment, pdf: bytes) -> Attachment:
    """The renewed letter becomes the request's letter; the previous version stays on record
    (superseded) with its hash."""
    written = attachments.Written()
    try:
        prepared = attachments.Prepared(previous.kind, previous.name, pdf, attachments.PDF,
                                        hashlib.sha256(pdf).hexdigest())
        file_id = attachments.store(prepared, request.id, written, None)
        now = utc_now()
        row = Attachment(request_id=request.id, kind=previous.kind, file_id=file_id,
                         name=previous.name, size=len(pdf), media_type=attachments.PDF,
                         sha256=prepared.sha256, uploaded_by=None, created_at=now)
        model.Session.add(row)
        model.Session.flush()
        previous.deleted_at = now
        request.letter_attachment_id = row.id
        model.Session.commit()
    except Exception:
        model.Session.rollback()
        written.discard()
        raise
    log.info("archive timestamp renewed for %s: %s -> %s", request.tracking_number,
             previous.sha256, row.sha256)
    return row


def letter_versions(request: Request) -> set[str]:
    """SHA-256 of every version of the request's signed letter (current and superseded)."""
    return set(model.Session.scalars(select(Attachment.sha256).where(
        Attachment.request_id == request.id, Attachment.kind == "signed_reply")))
