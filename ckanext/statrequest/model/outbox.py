"""The mail outbox: one row per email, written in the transaction of the change it reports, and
the language each requester's mail follows."""
from __future__ import annotations

import datetime as dt

import ckantoolkit as tk
from sqlalchemy import BigInteger, ForeignKey, Integer, UnicodeText
from sqlalchemy.orm import Mapped, mapped_column

from ckanext.statrequest.model.types import TS


class Notification(tk.BaseModel):
    """One email in the outbox (created by migrations 0003 and 0007)."""

    __tablename__ = "statrequest_notification"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_key: Mapped[str] = mapped_column(UnicodeText)
    recipient: Mapped[str] = mapped_column(UnicodeText)
    kind: Mapped[str] = mapped_column(UnicodeText)
    # None: not about a request (the answer to a complaint about the service in general)
    request_id: Mapped[str | None] = mapped_column(
        UnicodeText, ForeignKey("statrequest_request.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(UnicodeText)
    name: Mapped[str] = mapped_column(UnicodeText, default="")
    language: Mapped[str] = mapped_column(UnicodeText)
    subject: Mapped[str] = mapped_column(UnicodeText)
    body: Mapped[str] = mapped_column(UnicodeText)
    created_at: Mapped[dt.datetime] = mapped_column(TS)
    sent_at: Mapped[dt.datetime | None] = mapped_column(TS)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(TS)
    last_error: Mapped[str | None] = mapped_column(UnicodeText)


class RequestLanguage(tk.BaseModel):
    """The language the requester used when submitting (their emails follow it)."""

    __tablename__ = "statrequest_request_language"

    request_id: Mapped[str] = mapped_column(
        UnicodeText, ForeignKey("statrequest_request.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(UnicodeText)
