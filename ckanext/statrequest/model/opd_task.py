"""One task per OPD a request is routed to (parallel OPD tasks, issue #12)."""
from __future__ import annotations

import datetime as dt

import ckantoolkit as tk
from sqlalchemy import ForeignKey, UnicodeText
from sqlalchemy.orm import Mapped, mapped_column

from ckanext.statrequest.model.types import TS

ASKED, ANSWERED, NO_DATA, CLOSED = "asked", "answered", "no_data", "closed"
SETTLED = (ANSWERED, NO_DATA, CLOSED)


class OpdTask(tk.BaseModel):
    __tablename__ = "statrequest_opd_task"

    request_id: Mapped[str] = mapped_column(
        UnicodeText, ForeignKey("statrequest_request.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        UnicodeText, ForeignKey("group.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(UnicodeText, default=ASKED)
    asked_at: Mapped[dt.datetime] = mapped_column(TS)
    due: Mapped[dt.datetime | None] = mapped_column(TS)
    answered_at: Mapped[dt.datetime | None] = mapped_column(TS)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(TS)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(TS)
    closed_at: Mapped[dt.datetime | None] = mapped_column(TS)
    closed_reason: Mapped[str] = mapped_column(UnicodeText, default="")
    closed_by: Mapped[str | None] = mapped_column(UnicodeText, ForeignKey("user.id"))
