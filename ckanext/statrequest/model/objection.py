"""An objection (keberatan) against a request's answer, and its decision letter."""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckantoolkit as tk
from sqlalchemy import ForeignKey, Integer, UnicodeText
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ckanext.statrequest.model.types import TS, new_id


class Objection(tk.BaseModel):
    __tablename__ = "statrequest_objection"

    id: Mapped[str] = mapped_column(UnicodeText, primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(
        UnicodeText, ForeignKey("statrequest_request.id", ondelete="CASCADE"), unique=True)
    state: Mapped[str] = mapped_column(UnicodeText)  # a state of the workflow's objection steps
    grounds: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    reason: Mapped[str] = mapped_column(UnicodeText)
    filed_by: Mapped[str | None] = mapped_column(UnicodeText, ForeignKey("user.id"))
    filed_at: Mapped[dt.datetime] = mapped_column(TS)
    due_at: Mapped[dt.datetime] = mapped_column(TS)
    decision: Mapped[str | None] = mapped_column(UnicodeText)  # vocabulary.OBJECTION_DECISIONS
    decision_reason: Mapped[str] = mapped_column(UnicodeText, default="")
    decided_by: Mapped[str | None] = mapped_column(UnicodeText, ForeignKey("user.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(TS)
    letter_number: Mapped[str | None] = mapped_column(UnicodeText)
    letter_attachment_id: Mapped[str | None] = mapped_column(UnicodeText)
    verification_code: Mapped[str | None] = mapped_column(UnicodeText)
    escalated_days: Mapped[int] = mapped_column(Integer, default=0)
