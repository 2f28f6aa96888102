"""Database operations with concurrency rules: finding a request, numbering, guarded state
changes, due dates."""
from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

import ckan.model as model
from sqlalchemy import select, text, update

from ckanext.statrequest import settings
from ckanext.statrequest.core.calendar import WorkingCalendar
from ckanext.statrequest.core.numbering import (
    format_agenda_number,
    format_tracking_number,
    parse_tracking_number,
)
from ckanext.statrequest.model import Request
from ckanext.statrequest.model import now as utc_now

T = TypeVar("T")

MAX_REF = 64  # our ids are UUIDs and our numbers short: a longer reference names nothing


def usable_ref(ref: Any, max_length: int = MAX_REF) -> str | None:
    """`ref` as text if it can name a row: not empty, at most `max_length` characters and
    without NUL (PostgreSQL refuses a NUL in a text value: that would be a 500, not a 404)."""
    text_ = str(ref or "").strip()
    return text_ if 0 < len(text_) <= max_length and "\x00" not in text_ else None


def row(cls: type[T], ref: Any, max_length: int = MAX_REF) -> T | None:
    """The row of `cls` whose primary key is `ref`, or None."""
    key = usable_ref(ref, max_length)
    return model.Session.get(cls, key) if key else None


def find_request(ref: Any) -> Request | None:
    """A request by id or by tracking number (spaces and lower case forgiven)."""
    request = row(Request, ref)
    if request is not None or usable_ref(ref) is None:
        return request
    try:
        number = format_tracking_number(*parse_tracking_number(str(ref)))
    except ValueError:  # neither an id nor a tracking number
        return None
    return model.Session.scalars(select(Request).where(Request.tracking_number == number)).first()


class StaleVersion(Exception):
    """Another user changed the request first."""


def next_number(name: str, year: int) -> int:
    """The next value of a per-year counter, inside the caller's transaction.

    The upsert takes a row lock that is held until commit, so concurrent callers queue and
    each gets its own number; a rolled-back transaction gives its number back (no gaps).
    """
    return model.Session.execute(
        text(
            "INSERT INTO statrequest_counter (name, year, value) VALUES (:name, :year, 1) "
            "ON CONFLICT (name, year) DO UPDATE SET value = statrequest_counter.value + 1 "
            "RETURNING value"
        ),
        {"name": name, "year": year},
    ).scalar_one()


def next_agenda_number(year: int) -> str:
    """The next number of the incoming-letter register (`0001/AGD/2026`), shared by portal
    submissions and desk registrations; like `next_number`, in the caller's transaction so a
    failed insert gives its number back."""
    return format_agenda_number(year, next_number("agenda", year))


def guarded_update(request_id: str, expected_version: int, values: dict[str, Any]) -> int:
    """Change a request only if nobody else did since `expected_version`; return the new one."""
    new_version = model.Session.execute(
        update(Request)
        .where(Request.id == request_id, Request.version == expected_version)
        .values(version=Request.version + 1, **values)
        .returning(Request.version)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if new_version is None:
        raise StaleVersion(request_id)
    return new_version


def pauses(request: Request, now: dt.datetime | None = None) -> list[tuple[dt.datetime, dt.datetime]]:
    spans = [(dt.datetime.fromisoformat(a), dt.datetime.fromisoformat(b))
             for a, b in request.sla_pauses or []]
    if request.sla_paused_at is not None:
        spans.append((request.sla_paused_at, now or utc_now()))
    return spans


def due_for(request: Request, calendar: WorkingCalendar, now: dt.datetime | None = None
            ) -> dt.datetime:
    # the extension counts in every recomputation (a resumed clock, a changed holiday list)
    days = settings.sla_days() + (request.extension_days or 0)
    return calendar.due_date(request.received_at, days, pauses(request, now))


def recompute_open_due_dates(calendar: WorkingCalendar | None = None) -> int:
    """After the holiday list changed: move the deadline of every open request."""
    calendar = calendar or settings.calendar()
    wf = settings.workflow()
    open_states = [s for s in wf.states if not wf.is_final(s)]
    count = 0
    for request in model.Session.scalars(select(Request).where(Request.state.in_(open_states))):
        due = due_for(request, calendar)
        if due != request.sla_due_at:
            request.sla_due_at = due
            count += 1
    return count
