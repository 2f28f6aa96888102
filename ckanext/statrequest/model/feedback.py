"""ORM mapping of the feedback tables: the SKM survey and complaints (migration 0004)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckantoolkit as tk
from sqlalchemy import ForeignKey, SmallInteger, UnicodeText
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ckanext.statrequest.model.types import TS, new_id, now

# The nine elements of PermenPAN-RB 14/2017, in the regulation's order.
ELEMENTS: tuple[str, ...] = tuple(f"u{n}" for n in range(1, 10))

COMPLAINT_STATES: tuple[str, ...] = ("diterima", "ditanggapi", "selesai")


class Survey(tk.BaseModel):
    __tablename__ = "statrequest_survey"

    id: Mapped[str] = mapped_column(UnicodeText, primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(
        UnicodeText, ForeignKey("statrequest_request.id", ondelete="CASCADE"), unique=True)
    respondent_id: Mapped[str | None] = mapped_column(UnicodeText, ForeignKey("user.id"))
    u1: Mapped[int] = mapped_column(SmallInteger)
    u2: Mapped[int] = mapped_column(SmallInteger)
    u3: Mapped[int] = mapped_column(SmallInteger)
    u4: Mapped[int] = mapped_column(SmallInteger)
    u5: Mapped[int] = mapped_column(SmallInteger)
    u6: Mapped[int] = mapped_column(SmallInteger)
    u7: Mapped[int] = mapped_column(SmallInteger)
    u8: Mapped[int] = mapped_column(SmallInteger)
    u9: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(UnicodeText, default="")
    created_at: Mapped[dt.datetime] = mapped_column(TS, default=now)

    @property
    def scores(self) -> list[int]:
        return [getattr(self, u) for u in ELEMENTS]


class Complaint(tk.BaseModel):
    __tablename__ = "statrequest_complaint"

    id: Mapped[str] = mapped_column(UnicodeText, primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(UnicodeText, unique=True)
    request_id: Mapped[str | None] = mapped_column(
        UnicodeText, ForeignKey("statrequest_request.id", ondelete="SET NULL"))
    # None: recorded at the counter for someone without an account (migration 0011)
    complainant_id: Mapped[str | None] = mapped_column(UnicodeText, ForeignKey("user.id"))
    complainant_name: Mapped[str] = mapped_column(UnicodeText, default="")
    complainant_email: Mapped[str] = mapped_column(UnicodeText, default="")
    complainant_phone: Mapped[str] = mapped_column(UnicodeText, default="")
    channel: Mapped[str] = mapped_column(UnicodeText, default="portal")
    received_by: Mapped[str | None] = mapped_column(UnicodeText, ForeignKey("user.id"))
    received_at: Mapped[dt.datetime | None] = mapped_column(TS)
    due_at: Mapped[dt.datetime | None] = mapped_column(TS)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(TS)
    subject: Mapped[str] = mapped_column(UnicodeText)
    body: Mapped[str] = mapped_column(UnicodeText)
    state: Mapped[str] = mapped_column(UnicodeText, default="diterima")
    response: Mapped[str] = mapped_column(UnicodeText, default="")
    responded_by: Mapped[str | None] = mapped_column(UnicodeText, ForeignKey("user.id"))
    responded_at: Mapped[dt.datetime | None] = mapped_column(TS)
    closed_at: Mapped[dt.datetime | None] = mapped_column(TS)
    history: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(TS, default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(TS, default=now)
