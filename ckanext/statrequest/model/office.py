"""The office: who holds which position (definitive, Plt, Plh), their signing credentials, the
holidays of the working calendar."""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckantoolkit as tk
from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    UnicodeText,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ckanext.statrequest.core.vocabulary import DEFINITIVE
from ckanext.statrequest.model.types import TS, new_id, now


class Position(tk.BaseModel):
    __tablename__ = "statrequest_position"

    id: Mapped[str] = mapped_column(UnicodeText, primary_key=True, default=new_id)
    position: Mapped[str] = mapped_column(UnicodeText)
    user_id: Mapped[str] = mapped_column(UnicodeText, ForeignKey("user.id", ondelete="CASCADE"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    acting: Mapped[bool] = mapped_column(Boolean, default=False)  # kind != definitif (kept)
    # definitif | plt (pelaksana tugas) | plh (pelaksana harian)
    kind: Mapped[str] = mapped_column(UnicodeText, default=DEFINITIVE)
    # the official a Plt/Plh stands in for (None: whoever holds the position definitively)
    stands_in_for: Mapped[str | None] = mapped_column(UnicodeText, ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(UnicodeText, default="")
    nip: Mapped[str] = mapped_column(UnicodeText, default="")
    rank: Mapped[str] = mapped_column(UnicodeText, default="")  # pangkat/golongan
    created_by: Mapped[str | None] = mapped_column(UnicodeText)
    created_at: Mapped[dt.datetime] = mapped_column(TS, default=now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(TS)


class SigningCredential(tk.BaseModel):
    """A person's signing key: a PKCS#12 file, a PKCS#11 token or a remote-service NIK.

    Keys belong to people, never to positions: whoever signs uses their own credential.
    At most one active (not revoked) credential per user.
    """

    __tablename__ = "statrequest_signing_credential"

    id: Mapped[str] = mapped_column(UnicodeText, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(UnicodeText, ForeignKey("user.id", ondelete="CASCADE"))
    backend: Mapped[str] = mapped_column(UnicodeText)  # pkcs12 | pkcs11 | remote
    reference: Mapped[str] = mapped_column(UnicodeText)  # p12 file / token label / NIK
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)  # key/cert labels
    cert_fingerprint: Mapped[str] = mapped_column(UnicodeText, default="")  # SHA-256 hex
    cert_subject: Mapped[str] = mapped_column(UnicodeText, default="")
    cert_issuer: Mapped[str] = mapped_column(UnicodeText, default="")
    cert_not_after: Mapped[dt.datetime | None] = mapped_column(TS)
    created_by: Mapped[str | None] = mapped_column(UnicodeText)
    created_at: Mapped[dt.datetime] = mapped_column(TS, default=now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(TS)


class Holiday(tk.BaseModel):
    __tablename__ = "statrequest_holiday"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(UnicodeText)
    kind: Mapped[str] = mapped_column(UnicodeText)
    created_by: Mapped[str | None] = mapped_column(UnicodeText)
    created_at: Mapped[dt.datetime] = mapped_column(TS, default=now)
