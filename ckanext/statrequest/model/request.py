"""A request and what hangs off it: datasets, organisations, events, files, counters, identity
access log."""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckantoolkit as tk
from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    UnicodeText,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, validates

from ckanext.statrequest.model import crypto
from ckanext.statrequest.model.types import TS, EncryptedText, new_id, now


class Request(tk.BaseModel):
    __tablename__ = "statrequest_request"

    id: Mapped[str] = mapped_column(UnicodeText, primary_key=True, default=new_id)
    tracking_number: Mapped[str] = mapped_column(UnicodeText, unique=True)
    requester_id: Mapped[str | None] = mapped_column(UnicodeText, ForeignKey("user.id"))
    requester_name: Mapped[str] = mapped_column(UnicodeText)
    identity_type: Mapped[str] = mapped_column(UnicodeText)
    identity_number: Mapped[str | None] = mapped_column(EncryptedText)
    # HMAC of the number (crypto.lookup_hash): exact look-up without decrypting every row
    identity_number_hash: Mapped[str | None] = mapped_column(UnicodeText)
    institution: Mapped[str] = mapped_column(UnicodeText, default="")
    category: Mapped[str] = mapped_column(UnicodeText)
    email: Mapped[str] = mapped_column(UnicodeText)
    phone: Mapped[str] = mapped_column(UnicodeText, default="")
    address: Mapped[str] = mapped_column(UnicodeText, default="")
    title: Mapped[str] = mapped_column(UnicodeText)
    description: Mapped[str] = mapped_column(UnicodeText)
    period: Mapped[str] = mapped_column(UnicodeText, default="")
    breakdown: Mapped[str] = mapped_column(UnicodeText, default="")
    data_format: Mapped[str] = mapped_column(UnicodeText, default="")
    purpose: Mapped[str] = mapped_column(UnicodeText)
    state: Mapped[str] = mapped_column(UnicodeText)
    outcome: Mapped[str | None] = mapped_column(UnicodeText)
    assignee_id: Mapped[str | None] = mapped_column(UnicodeText, ForeignKey("user.id"))
    received_at: Mapped[dt.datetime] = mapped_column(TS)
    sla_due_at: Mapped[dt.datetime | None] = mapped_column(TS)
    sla_paused_at: Mapped[dt.datetime | None] = mapped_column(TS)
    sla_pauses: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    closed_at: Mapped[dt.datetime | None] = mapped_column(TS)
    personal_data_purged_at: Mapped[dt.datetime | None] = mapped_column(TS)
    letter_number: Mapped[str | None] = mapped_column(UnicodeText)
    letter_attachment_id: Mapped[str | None] = mapped_column(UnicodeText)
    verification_code: Mapped[str | None] = mapped_column(UnicodeText)
    delivered_package_id: Mapped[str | None] = mapped_column(UnicodeText)
    # the one deadline extension (perpanjangan): working days added to the SLA, and when
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    extended_at: Mapped[dt.datetime | None] = mapped_column(TS)
    # the incoming-letter register: one per-year number for every request (portal or desk),
    # how it arrived, and for a desk registration who received it and the sender's letter
    agenda_number: Mapped[str | None] = mapped_column(UnicodeText, unique=True)
    channel: Mapped[str] = mapped_column(UnicodeText, default="portal")
    received_by: Mapped[str | None] = mapped_column(UnicodeText, ForeignKey("user.id"))
    sender_letter_number: Mapped[str | None] = mapped_column(UnicodeText)
    sender_letter_date: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(TS, default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(TS, default=now)
    # maintained by PostgreSQL (a generated column, see the migration)
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed("search_vector", persisted=True), deferred=True
    )

    @validates("identity_number")
    def _hash_identity_number(self, key: str, value: str | None) -> str | None:
        self.identity_number_hash = crypto.lookup_hash(value)
        return value


class OpenRequest(tk.BaseModel):
    """What a text search among open requests filters and sorts on, one row per open request
    (closed_at NULL). Written only by PostgreSQL's triggers on statrequest_request (migration
    0019), in the writer's transaction; read by statrequest_list."""
    __tablename__ = "statrequest_open_request"

    id: Mapped[str] = mapped_column(
        UnicodeText, ForeignKey("statrequest_request.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(UnicodeText)
    category: Mapped[str] = mapped_column(UnicodeText)
    sla_due_at: Mapped[dt.datetime | None] = mapped_column(TS)
    created_at: Mapped[dt.datetime] = mapped_column(TS)
    identity_number_hash: Mapped[str | None] = mapped_column(UnicodeText)
    search_vector: Mapped[Any] = mapped_column(TSVECTOR)


class OpenRequestWord(tk.BaseModel):
    """One word (cut at 100 characters) of an open request, with the columns a search filters
    and sorts on, so that a word's matches are one range of the primary key read without the
    table. Written only by PostgreSQL's triggers on statrequest_open_request (migration 0020);
    read by statrequest_list."""
    __tablename__ = "statrequest_open_request_word"

    word: Mapped[str] = mapped_column(UnicodeText, primary_key=True)
    id: Mapped[str] = mapped_column(UnicodeText, primary_key=True)
    # characters at its beginning the word shares with the request's previous word in byte
    # order: of a request's words that begin with p, only the first shares fewer than len(p)
    shared: Mapped[int] = mapped_column(SmallInteger)
    category: Mapped[str] = mapped_column(UnicodeText)
    state: Mapped[str] = mapped_column(UnicodeText)
    sla_due_at: Mapped[dt.datetime | None] = mapped_column(TS)
    created_at: Mapped[dt.datetime] = mapped_column(TS)


# Rows in which the open requests' tables differ from what the triggers should have made of
# the requests, both ways: the open requests' table from the open requests, the words table
# from that table's words (cut at 100 characters). 0 when they are right (tests, the scale
# run's invariant checker).
OPEN_SEARCH_DRIFT = """
    SELECT (SELECT count(*) FROM (
        (SELECT id, state, category, sla_due_at, created_at, identity_number_hash, search_vector
         FROM statrequest_request WHERE closed_at IS NULL
         EXCEPT SELECT id, state, category, sla_due_at, created_at, identity_number_hash,
                       search_vector FROM statrequest_open_request)
        UNION ALL
        (SELECT id, state, category, sla_due_at, created_at, identity_number_hash, search_vector
         FROM statrequest_open_request
         EXCEPT SELECT id, state, category, sla_due_at, created_at, identity_number_hash,
                       search_vector FROM statrequest_request WHERE closed_at IS NULL)) d) AS open,
    (SELECT count(*) FROM (
        (SELECT left(w, 100), o.id, o.category, o.state, o.sla_due_at, o.created_at
         FROM statrequest_open_request o, unnest(tsvector_to_array(o.search_vector)) w
         EXCEPT SELECT word, id, category, state, sla_due_at, created_at
                FROM statrequest_open_request_word)
        UNION ALL
        (SELECT word, id, category, state, sla_due_at, created_at FROM statrequest_open_request_word
         EXCEPT SELECT left(w, 100), o.id, o.category, o.state, o.sla_due_at, o.created_at
                FROM statrequest_open_request o, unnest(tsvector_to_array(o.search_vector)) w)) d
    ) AS words"""


class RequestDataset(tk.BaseModel):
    __tablename__ = "statrequest_request_dataset"

    request_id: Mapped[str] = mapped_column(
        UnicodeText, ForeignKey("statrequest_request.id", ondelete="CASCADE"), primary_key=True
    )
    package_id: Mapped[str] = mapped_column(
        UnicodeText, ForeignKey("package.id", ondelete="CASCADE"), primary_key=True
    )
    linked_by: Mapped[str | None] = mapped_column(UnicodeText)
    role: Mapped[str] = mapped_column(UnicodeText, default="reference")


class RequestOrganization(tk.BaseModel):
    __tablename__ = "statrequest_request_org"

    request_id: Mapped[str] = mapped_column(
        UnicodeText, ForeignKey("statrequest_request.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[str] = mapped_column(
        UnicodeText, ForeignKey("group.id", ondelete="CASCADE"), primary_key=True
    )
    routed: Mapped[bool] = mapped_column(Boolean, default=False)
    routed_at: Mapped[dt.datetime | None] = mapped_column(TS)


class Event(tk.BaseModel):
    __tablename__ = "statrequest_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(
        UnicodeText, ForeignKey("statrequest_request.id", ondelete="CASCADE")
    )
    actor_id: Mapped[str | None] = mapped_column(UnicodeText, ForeignKey("user.id"))
    actor_role: Mapped[str] = mapped_column(UnicodeText)
    acting: Mapped[bool] = mapped_column(Boolean, default=False)
    transition: Mapped[str] = mapped_column(UnicodeText)
    from_state: Mapped[str | None] = mapped_column(UnicodeText)
    to_state: Mapped[str] = mapped_column(UnicodeText)
    note: Mapped[str] = mapped_column(UnicodeText, default="")
    visibility: Mapped[str] = mapped_column(UnicodeText)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(TS, default=now)


class Attachment(tk.BaseModel):
    __tablename__ = "statrequest_attachment"

    id: Mapped[str] = mapped_column(UnicodeText, primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(
        UnicodeText, ForeignKey("statrequest_request.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(UnicodeText)
    file_id: Mapped[str | None] = mapped_column(UnicodeText)
    name: Mapped[str] = mapped_column(UnicodeText)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(UnicodeText)
    sha256: Mapped[str] = mapped_column(UnicodeText)
    uploaded_by: Mapped[str | None] = mapped_column(UnicodeText, ForeignKey("user.id"))
    organization_id: Mapped[str | None] = mapped_column(UnicodeText)
    created_at: Mapped[dt.datetime] = mapped_column(TS, default=now)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(TS)


class Counter(tk.BaseModel):
    __tablename__ = "statrequest_counter"

    name: Mapped[str] = mapped_column(UnicodeText, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class IdentityAccess(tk.BaseModel):
    """Who saw a requester's identity, and when (shown to the Secretary; UU 27/2022): the
    identity document opened (kind `document`) or the full NIK shown (kind `nik`)."""

    __tablename__ = "statrequest_identity_access"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(UnicodeText, default="document")
    attachment_id: Mapped[str | None] = mapped_column(UnicodeText)
    request_id: Mapped[str] = mapped_column(
        UnicodeText, ForeignKey("statrequest_request.id", ondelete="CASCADE")
    )
    user_id: Mapped[str | None] = mapped_column(UnicodeText, ForeignKey("user.id"))
    accessed_at: Mapped[dt.datetime] = mapped_column(TS, default=now)
