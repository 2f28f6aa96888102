"""Working-day calendar for the service-level deadline ("5 hari kerja").

Conventions (Indonesian practice for "paling lambat N hari kerja sejak diterima"):

- A working day is Monday to Friday, not an Indonesian public holiday (the `holidays`
  package), not a day the administrator added (cuti bersama, regional holidays), unless the
  administrator declared it a working day anyway (`extra_working_days` wins over everything,
  e.g. when the government moves a holiday).
- Receipt: a request received during office hours on a working day counts from that moment.
  Received before office hours, it counts from that day's office start; received after office
  hours, on a weekend or a holiday, it counts from the next working day's office start.
- The day of (effective) receipt is day 0. The deadline is the end of office hours of the
  N-th working day after it: received Monday 10:00, 5 working days are due next Monday 16:00.
- Working time is measured in office hours, so a pause (the request waits for the requester)
  moves the deadline by exactly the office time it lasted, and statistics can report
  fractional working days (one working day = office_end - office_start).

Nothing is stored here: due dates are recomputed from the received time, the pauses and the
current holiday list, so a holiday added later moves open deadlines.

All datetimes must be timezone-aware; results are in the calendar's timezone (WIB
Asia/Jakarta, WITA Asia/Makassar or WIT Asia/Jayapura).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

ON_TIME = "on_time"
DUE_SOON = "due_soon"
OVERDUE = "overdue"

_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=64)
def _national_holidays(
    country: str, year: int, categories: tuple[str, ...], language: str
) -> holidays.HolidayBase:
    # Building a year takes milliseconds and the data never changes within a process, so
    # it is shared by every calendar (callers may build a fresh calendar per request).
    return holidays.country_holidays(country, years=year, categories=categories,
                                     language=language)


class WorkingCalendar:
    def __init__(
        self,
        country: str = "ID",
        tz: str = "Asia/Jakarta",
        office_start: time = time(8, 0),
        office_end: time = time(16, 0),
        extra_holidays: Mapping[date, str] | None = None,
        extra_working_days: Iterable[date] | None = None,
        joint_leave: bool = False,
        language: str = "id",
    ) -> None:
        """`joint_leave=True` also takes cuti bersama from the `holidays` package (its
        "government" category for ID); otherwise the administrator enters them.
        `language` is for holiday names ("id" or "en_US"); set explicitly because the
        package otherwise follows the process locale."""
        if office_end <= office_start:
            raise ValueError("office_end must be after office_start")
        self.country = country
        self.tz = ZoneInfo(tz)
        self.office_start = office_start
        self.office_end = office_end
        self.extra_holidays: dict[date, str] = dict(extra_holidays or {})
        self.extra_working_days: frozenset[date] = frozenset(extra_working_days or ())
        self.categories: tuple[str, ...] = ("public", "government") if joint_leave else ("public",)
        self.language = language
        self._off_by_year: dict[int, list[date]] = {}

    @property
    def day_length(self) -> timedelta:
        """One working day of office time."""
        return (datetime.combine(date.min, self.office_end)
                - datetime.combine(date.min, self.office_start))

    # --- days ------------------------------------------------------------------------------

    def holiday_name(self, d: date) -> str | None:
        """Why `d` is a holiday (administrator's entry first), or None."""
        if d in self.extra_holidays:
            return self.extra_holidays[d]
        return _national_holidays(self.country, d.year, self.categories, self.language).get(d)

    def is_working_day(self, d: date) -> bool:
        if d in self.extra_working_days:
            return True
        return d.weekday() < 5 and self.holiday_name(d) is None

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        d += _ONE_DAY
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    # --- instants --------------------------------------------------------------------------

    def localize(self, dt: datetime) -> datetime:
        """Convert an aware datetime to the calendar's timezone; naive ones are refused
        because guessing their zone is how deadlines drift by hours."""
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError(f"timezone-aware datetime required, got {dt!r}")
        return dt.astimezone(self.tz)

    def _opening(self, d: date) -> datetime:
        return datetime.combine(d, self.office_start, tzinfo=self.tz)

    def _closing(self, d: date) -> datetime:
        return datetime.combine(d, self.office_end, tzinfo=self.tz)

    def effective_start(self, dt: datetime) -> datetime:
        """The moment from which a request received at `dt` is counted."""
        dt = self.localize(dt)
        d = dt.date()
        if self.is_working_day(d):
            if dt < self._opening(d):
                return self._opening(d)
            if dt < self._closing(d):
                return dt
        return self._opening(self.next_working_day(d))

    def add_working_days(self, start_dt: datetime, n: int) -> datetime:
        """End of office hours of the n-th working day after the day of receipt (day 0)."""
        if n < 0:
            raise ValueError("n must not be negative")
        d = self.effective_start(start_dt).date()
        for _ in range(n):
            d = self.next_working_day(d)
        return self._closing(d)

    def add_working_time(self, start_dt: datetime, amount: timedelta) -> datetime:
        """The instant when `amount` of office time has passed after `start_dt`.

        Landing exactly on a closing time returns that closing time (not the next
        morning), so whole-day amounts keep "end of day" deadlines.
        """
        cursor = self.localize(start_dt)
        if amount <= timedelta(0):
            return cursor
        cursor = self.effective_start(cursor)
        remaining = amount
        while True:
            left_today = self._closing(cursor.date()) - cursor
            if remaining <= left_today:
                return cursor + remaining
            remaining -= left_today
            cursor = self._opening(self.next_working_day(cursor.date()))

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Office time from `a` to `b` (negative if `b` is before `a`).

        The days strictly between the two ends are counted arithmetically, not walked one
        by one: inbox pages compute this for requests that may be months overdue.
        """
        a, b = self.localize(a), self.localize(b)
        if b < a:
            return -self.working_time_between(b, a)

        def part(d: date) -> timedelta:
            if not self.is_working_day(d):
                return timedelta(0)
            return max(min(b, self._closing(d)) - max(a, self._opening(d)), timedelta(0))

        if a.date() == b.date():
            return part(a.date())
        middle = self._working_days_in(a.date() + _ONE_DAY, b.date() - _ONE_DAY)
        return part(a.date()) + part(b.date()) + middle * self.day_length

    def _working_days_in(self, first: date, last: date) -> int:
        """Working days from `first` to `last` inclusive: weekdays, less holidays."""
        if last < first:
            return 0
        weeks, rest = divmod((last - first).days + 1, 7)
        count = weeks * 5 + sum((first.weekday() + i) % 7 < 5 for i in range(rest))
        for year in range(first.year, last.year + 1):
            off = self._weekday_holidays(year)
            count -= bisect_right(off, last) - bisect_left(off, first)
        count += sum(1 for d in self.extra_working_days if first <= d <= last and d.weekday() >= 5)
        return count

    def _weekday_holidays(self, year: int) -> list[date]:
        """The year's holidays on a weekday that are not declared working days, sorted; kept
        per calendar (a list page asks for the working days left of each of its rows)."""
        found = self._off_by_year.get(year)
        if found is None:
            national = _national_holidays(self.country, year, self.categories, self.language)
            found = sorted(d for d in {*self.extra_holidays, *national}
                           if d.year == year and d.weekday() < 5
                           and d not in self.extra_working_days)
            self._off_by_year[year] = found
        return found

    def working_days_between(self, a: datetime, b: datetime) -> float:
        """Elapsed office time in working days, e.g. 2.5 (for statistics and due-soon)."""
        return self.working_time_between(a, b) / self.day_length

    # --- the SLA ---------------------------------------------------------------------------

    def due_date(
        self,
        received_at: datetime,
        sla_days: int,
        paused_intervals: Iterable[tuple[datetime, datetime]] = (),
    ) -> datetime:
        """Deadline of a request, with the office time spent in pauses excluded.

        `paused_intervals` are (start, end) spans in a paused state such as perlu_perbaikan;
        for a pause still open pass `now` as its end (the deadline then keeps moving).
        """
        start = self.effective_start(received_at)
        budget = self.working_time_between(start, self.add_working_days(start, sla_days))
        cursor = start
        for pause_start, pause_end in self._merge(paused_intervals):
            if pause_end <= cursor:
                continue  # before the clock started, or inside an earlier pause
            running = self.working_time_between(cursor, max(cursor, pause_start))
            if running >= budget:
                break  # the deadline falls before this pause
            budget -= running
            cursor = pause_end
        return self.add_working_time(cursor, budget)

    def _merge(
        self, intervals: Iterable[tuple[datetime, datetime]]
    ) -> list[tuple[datetime, datetime]]:
        """Sorted, non-overlapping intervals in the calendar timezone."""
        spans = sorted((self.localize(s), self.localize(e)) for s, e in intervals)
        merged: list[tuple[datetime, datetime]] = []
        for s, e in spans:
            if e <= s:
                continue
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        return merged

    def sla_status(self, due: datetime, now: datetime, due_soon_days: float = 1,
                   days_left: float | None = None) -> str:
        """on_time | due_soon (at most `due_soon_days` of office time left) | overdue.
        `days_left`: working_days_between(now, due) when the caller has it already."""
        if self.localize(now) > self.localize(due):
            return OVERDUE
        if days_left is None:
            days_left = self.working_days_between(now, due)
        return DUE_SOON if days_left <= due_soon_days else ON_TIME
