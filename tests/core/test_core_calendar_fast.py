"""The arithmetic working-time count agrees with walking the calendar day by day."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

from ckanext.statrequest.core.calendar import WorkingCalendar


def _walked(cal: WorkingCalendar, a: datetime, b: datetime) -> timedelta:
    a, b = cal.localize(a), cal.localize(b)
    total, d = timedelta(0), a.date()
    while d <= b.date():
        if cal.is_working_day(d):
            start = max(a, datetime.combine(d, cal.office_start, tzinfo=cal.tz))
            end = min(b, datetime.combine(d, cal.office_end, tzinfo=cal.tz))
            total += max(end - start, timedelta(0))
        d += timedelta(days=1)
    return total


def test_arithmetic_count_matches_the_day_by_day_walk():
    rng = random.Random(20261129)
    cal = WorkingCalendar(
        extra_holidays={date(2026, 12, 24): "Cuti bersama", date(2027, 3, 3): "Libur daerah"},
        extra_working_days=[date(2026, 12, 19), date(2027, 1, 5)],
        office_start=time(7, 30), office_end=time(16, 0),
    )
    base = datetime(2025, 6, 1, tzinfo=timezone.utc)
    for _ in range(3000):
        a = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 800))
        b = a + timedelta(minutes=rng.randrange(0, 60 * 24 * 400))
        assert cal.working_time_between(a, b) == _walked(cal, a, b), (a, b)
        assert cal.working_time_between(b, a) == -_walked(cal, a, b)
