"""Signing credentials: each person who initials or signs letters has their own.

A credential names where the person's key is (a PKCS#12 file in the signing folder, a PKCS#11
token, or the NIK the remote signing service knows them by) and, when given, the certificate
it must hold. Signing uses the credential of the user who signs, never another person's; one
key belongs to one person. Their names: `logic.api.ACTIONS["signing"]`.
"""
from __future__ import annotations

import re
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ckanext.statrequest.lib import access, letters, records
from ckanext.statrequest.logic import common
from ckanext.statrequest.logic import dictization as dz
from ckanext.statrequest.logic.schema import signing as schema
from ckanext.statrequest.model import SigningCredential
from ckanext.statrequest.model import now as now_utc

_ = tk._

MAX_CERT_BYTES = 64 * 1024
_NIK = re.compile(r"^[0-9]{16}$")


def _masked(backend: str, reference: str) -> str:
    """A NIK is personal data: lists show its last four digits only."""
    return ("*" * 12 + reference[-4:]) if backend == "remote" else reference


def _credential_dict(c: SigningCredential) -> dict[str, Any]:
    return {
        "id": c.id, **dz.user_fields(c.user_id),
        "backend": c.backend, "reference": _masked(c.backend, c.reference),
        "key_label": (c.settings or {}).get("key_label"),
        "cert_label": (c.settings or {}).get("cert_label"),
        "cert_subject": c.cert_subject, "cert_issuer": c.cert_issuer,
        "cert_fingerprint": c.cert_fingerprint,
        "cert_not_after": dz.iso(c.cert_not_after),
        "created_at": dz.iso(c.created_at), "revoked": c.revoked_at is not None,
    }


def _read_certificate(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")[: MAX_CERT_BYTES + 1]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value[: MAX_CERT_BYTES + 1])
    stream = getattr(value, "stream", value)
    if hasattr(stream, "read"):
        return stream.read(MAX_CERT_BYTES + 1)
    return b""


def _certificate(data: dict[str, Any], raw: Any) -> Any:
    """The certificate the key must hold: given, or the PEM next to a PKCS#12 file."""
    from ckanext.statrequest.documents.certs import load_certs_data

    content = b"" if raw in (None, "", tk.missing) else _read_certificate(raw)
    if not content and data["backend"] == "pkcs12":
        sibling = letters.p12_path(data["reference"])
        sibling = sibling.with_name(sibling.name.removesuffix(".p12") + ".cert.pem")
        if sibling.is_file():
            content = sibling.read_bytes()[: MAX_CERT_BYTES + 1]
        else:
            raise tk.ValidationError({"certificate": [_(
                "Give the certificate (PEM) of this key.")]})
    if not content:
        return None
    if len(content) > MAX_CERT_BYTES:
        raise tk.ValidationError({"certificate": [_("This is not a certificate (PEM).")]})
    try:
        certs = load_certs_data(content)
        cert = certs[0]
        cert.subject  # noqa: B018 - parse now, so a broken file is refused here
        cert.not_valid_after  # noqa: B018
    except Exception:  # noqa: BLE001 - asn1crypto raises many kinds on bad input
        raise tk.ValidationError({"certificate": [_(
            "This is not a certificate (PEM).")]}) from None
    return cert


def _check_reference(data: dict[str, Any]) -> None:
    backend, reference = data["backend"], data["reference"].strip()
    data["reference"] = reference
    if backend == "pkcs12":
        try:
            path = letters.p12_path(reference)
        except ValueError:
            raise tk.ValidationError({"reference": [_(
                "The key file must be a file in the signing folder.")]}) from None
        if not path.is_file():
            raise tk.ValidationError({"reference": [_(
                "There is no such key file in the signing folder.")]})
    elif backend == "remote" and not _NIK.match(reference):
        raise tk.ValidationError({"reference": [_("A NIK has 16 digits.")]})


def statrequest_credential_set(context: dict[str, Any], data_dict: dict[str, Any]
                               ) -> dict[str, Any]:
    """Register a person's signing credential (replacing their earlier one).

    :param user: the person (name or id)
    :param backend: pkcs12 | pkcs11 | remote
    :param reference: PKCS#12 file name in the signing folder | PKCS#11 token label | NIK
    :param key_label, cert_label: PKCS#11 object labels (default: the token label)
    :param certificate: the person's certificate (PEM); for PKCS#12 the ``.cert.pem`` next
        to the key file is used when not given. Signing refuses a key holding another one.
    """
    data = common.authorized("statrequest_credential_set", context, data_dict, schema.credential_set())
    _check_reference(data)
    cert = _certificate(data, data_dict.get("certificate"))
    facts = letters.certificate_facts(cert) if cert is not None else {}
    if facts and facts["cert_not_after"] < now_utc():
        raise tk.ValidationError({"certificate": [_("This certificate has expired.")]})
    taken = model.Session.scalars(select(SigningCredential).where(
        SigningCredential.revoked_at.is_(None), SigningCredential.user_id != data["user"],
        (SigningCredential.backend == data["backend"])
        & (SigningCredential.reference == data["reference"])
        | (SigningCredential.cert_fingerprint == (facts.get("cert_fingerprint") or "-")),
    )).first()
    if taken is not None:
        raise tk.ValidationError({"reference": [_(
            "This key or certificate is already registered to another person.")]})
    actor = access.context_actor(context)
    now = now_utc()
    for old in model.Session.scalars(select(SigningCredential).where(
            SigningCredential.user_id == data["user"], SigningCredential.revoked_at.is_(None))):
        old.revoked_at = now
    model.Session.flush()
    row = SigningCredential(
        user_id=data["user"], backend=data["backend"], reference=data["reference"],
        settings={k: data[k] for k in ("key_label", "cert_label") if data.get(k)},
        created_by=actor.user_id, created_at=now, **facts)
    model.Session.add(row)
    try:
        model.Session.commit()
    except IntegrityError:  # the same key registered by a concurrent call
        model.Session.rollback()
        raise tk.ValidationError({"reference": [_(
            "This key or certificate is already registered to another person.")]}) from None
    return _credential_dict(row)


@tk.side_effect_free
def statrequest_credential_list(context: dict[str, Any], data_dict: dict[str, Any]
                                ) -> list[dict[str, Any]]:
    """Signing credentials (active ones; `include_revoked` for all), optionally of one `user`."""
    data = common.authorized("statrequest_credential_list", context, data_dict, schema.credential_list())
    stmt = select(SigningCredential).order_by(SigningCredential.created_at.desc())
    if data.get("user"):
        stmt = stmt.where(SigningCredential.user_id == data["user"])
    if not data.get("include_revoked"):
        stmt = stmt.where(SigningCredential.revoked_at.is_(None))
    return [_credential_dict(c) for c in model.Session.scalars(stmt)]


def statrequest_credential_revoke(context: dict[str, Any], data_dict: dict[str, Any]
                                  ) -> dict[str, Any]:
    """Withdraw a credential: its holder can no longer sign until given a new one."""
    ref = common.authorized("statrequest_credential_revoke", context, data_dict,
                            schema.credential_revoke())["id"]
    row = records.row(SigningCredential, ref)
    if row is None:
        raise tk.ObjectNotFound(_("Signing credential not found"))
    row.revoked_at = row.revoked_at or now_utc()
    model.Session.commit()
    return _credential_dict(row)
