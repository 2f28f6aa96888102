"""Working days and SLA deadlines around real 2026/2027 Indonesian dates (holidays 0.109)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckanext.statrequest.core.calendar import DUE_SOON, ON_TIME, OVERDUE, WorkingCalendar

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
WIT = ZoneInfo("Asia/Jayapura")

# Cuti bersama 2026 (SKB 3 Menteri), as an administrator would enter them.
CUTI_BERSAMA_2026 = {
    date(2026, 2, 16): "Cuti bersama Tahun Baru Imlek",
    date(2026, 3, 18): "Cuti bersama Hari Suci Nyepi",
    date(2026, 3, 20): "Cuti bersama Idul Fitri",
    date(2026, 3, 23): "Cuti bersama Idul Fitri",
    date(2026, 3, 24): "Cuti bersama Idul Fitri",
    date(2026, 5, 15): "Cuti bersama Kenaikan Yesus Kristus",
    date(2026, 5, 28): "Cuti bersama Idul Adha",
    date(2026, 12, 24): "Cuti bersama Natal",
}


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.fixture(scope="module")
def cal_cuti() -> WorkingCalendar:
    return WorkingCalendar(extra_holidays=CUTI_BERSAMA_2026)


# --- what the holidays package says (if these fail, the package data changed) ---------------


def test_holidays_package_facts(cal: WorkingCalendar) -> None:
    assert cal.holiday_name(date(2026, 3, 19)) == "Hari Suci Nyepi"
    assert cal.holiday_name(date(2026, 3, 21)) == "Hari Raya Idul Fitri"  # a Saturday
    assert cal.holiday_name(date(2026, 3, 22)) == "Hari kedua dari Hari Raya Idul Fitri"
    assert cal.holiday_name(date(2026, 3, 20)) is None  # cuti bersama: not a public holiday
    assert cal.holiday_name(date(2027, 3, 10)) == "Hari Raya Idul Fitri (perkiraan)"
    assert WorkingCalendar(language="en_US").holiday_name(date(2026, 12, 25)) == "Christmas Day"


def test_working_days(cal: WorkingCalendar, cal_cuti: WorkingCalendar) -> None:
    assert cal.is_working_day(date(2026, 3, 20))  # Friday, eve of Idul Fitri
    assert not cal_cuti.is_working_day(date(2026, 3, 20))
    assert cal_cuti.holiday_name(date(2026, 3, 20)) == "Cuti bersama Idul Fitri"
    assert not cal.is_working_day(date(2026, 11, 28))  # Saturday
    assert not cal.is_working_day(date(2026, 8, 17))  # Independence Day, a Monday
    assert cal.next_working_day(date(2026, 3, 18)) == date(2026, 3, 20)
    assert cal_cuti.next_working_day(date(2026, 3, 17)) == date(2026, 3, 25)


def test_joint_leave_from_package_matches_admin_entries(cal_cuti: WorkingCalendar) -> None:
    joint = WorkingCalendar(joint_leave=True)
    for day in CUTI_BERSAMA_2026:
        assert not joint.is_working_day(day), day
    start = date(2026, 1, 1)
    days = [start + timedelta(n) for n in range(365)]
    assert [joint.is_working_day(d) for d in days] == [cal_cuti.is_working_day(d) for d in days]


def test_extra_working_days_override(cal: WorkingCalendar) -> None:
    special = WorkingCalendar(extra_working_days={date(2026, 11, 28), date(2026, 3, 19)})
    assert special.is_working_day(date(2026, 11, 28))  # a Saturday service day
    assert special.is_working_day(date(2026, 3, 19))  # a holiday the government moved
    # A Saturday working day counts as the day of receipt.
    assert special.due_date(wib(2026, 11, 28, 10), 5) == wib(2026, 12, 4, 16)
    assert cal.due_date(wib(2026, 11, 28, 10), 5) == wib(2026, 12, 7, 16)


# --- receipt and deadline ---------------------------------------------------------------------


def test_eve_of_idul_fitri_2026(cal: WorkingCalendar, cal_cuti: WorkingCalendar) -> None:
    received = wib(2026, 3, 20, 9, 0)  # Friday; Idul Fitri is Saturday 21 March
    # Without cuti bersama the Friday is day 0; then 23, 24, 25, 26, 27 March.
    assert cal.due_date(received, 5) == wib(2026, 3, 27, 16)
    # With cuti bersama the office is closed 20–24 March: counted from Wednesday 25 March.
    assert cal_cuti.effective_start(received) == wib(2026, 3, 25, 8)
    assert cal_cuti.due_date(received, 5) == wib(2026, 4, 1, 16)
    assert WorkingCalendar(joint_leave=True).due_date(received, 5) == wib(2026, 4, 1, 16)


def test_last_working_day_before_lebaran_2026(
    cal: WorkingCalendar, cal_cuti: WorkingCalendar
) -> None:
    received = wib(2026, 3, 17, 10, 0)  # Tuesday
    assert cal.due_date(received, 5) == wib(2026, 3, 25, 16)  # 18, 20, 23, 24, 25
    assert cal_cuti.due_date(received, 5) == wib(2026, 3, 31, 16)  # 25, 26, 27, 30, 31


def test_idul_fitri_2027_with_joint_leave_from_package() -> None:
    received = wib(2027, 3, 5, 14, 0)  # Friday before Nyepi (8 March) and Idul Fitri (10–11)
    # Closed 8–12 and 15 March (Nyepi, Idul Fitri, cuti bersama): 16, 17, 18, 19, 22.
    assert WorkingCalendar(joint_leave=True).due_date(received, 5) == wib(2027, 3, 22, 16)
    # Public holidays only: 9, 12, 15, 16, 17.
    assert WorkingCalendar().due_date(received, 5) == wib(2027, 3, 17, 16)


def test_submitted_on_saturday(cal: WorkingCalendar) -> None:
    received = wib(2026, 11, 28, 10, 0)
    assert cal.effective_start(received) == wib(2026, 11, 30, 8)
    assert cal.due_date(received, 5) == wib(2026, 12, 7, 16)  # Monday a week later


def test_submitted_after_office_hours(cal: WorkingCalendar) -> None:
    evening = wib(2026, 11, 26, 17, 30)  # Thursday 17:30 WIB
    assert cal.effective_start(evening) == wib(2026, 11, 27, 8)
    assert cal.due_date(evening, 5) == wib(2026, 12, 4, 16)
    # The same instant given in UTC, as stored in the database.
    in_utc = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)
    assert cal.due_date(in_utc, 5) == wib(2026, 12, 4, 16)
    assert cal.due_date(in_utc, 5).tzinfo == WIB
    # One minute before closing still counts the Thursday as day 0.
    assert cal.due_date(wib(2026, 11, 26, 15, 59), 5) == wib(2026, 12, 3, 16)
    # Exactly at closing time is after hours.
    assert cal.effective_start(wib(2026, 11, 26, 16, 0)) == wib(2026, 11, 27, 8)


def test_submitted_before_office_hours(cal: WorkingCalendar) -> None:
    assert cal.effective_start(wib(2026, 11, 26, 6, 30)) == wib(2026, 11, 26, 8)
    assert cal.effective_start(wib(2026, 11, 26, 11, 15)) == wib(2026, 11, 26, 11, 15)


def test_holiday_added_while_request_is_open(cal: WorkingCalendar) -> None:
    received = wib(2026, 11, 30, 9, 0)
    assert cal.due_date(received, 5) == wib(2026, 12, 7, 16)
    # The administrator adds a regional holiday on Thursday 3 December; recomputing moves it.
    later = WorkingCalendar(extra_holidays={date(2026, 12, 3): "Libur daerah"})
    assert later.due_date(received, 5) == wib(2026, 12, 8, 16)


def test_add_working_days(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(wib(2026, 11, 30, 9), 0) == wib(2026, 11, 30, 16)
    assert cal.add_working_days(wib(2026, 12, 23, 9), 2) == wib(2026, 12, 28, 16)  # Christmas
    with pytest.raises(ValueError):
        cal.add_working_days(wib(2026, 11, 30, 9), -1)


def test_add_working_time_keeps_end_of_day(cal: WorkingCalendar) -> None:
    assert cal.add_working_time(wib(2026, 11, 30, 8), timedelta(hours=8)) == wib(2026, 11, 30, 16)
    assert cal.add_working_time(wib(2026, 11, 30, 15), timedelta(hours=2)) == wib(2026, 12, 1, 9)
    assert cal.add_working_time(wib(2026, 12, 4, 15), timedelta(hours=2)) == wib(2026, 12, 7, 9)


# --- pauses (perlu_perbaikan) -----------------------------------------------------------------

RECEIVED = wib(2026, 11, 30, 9, 0)  # Monday; due Monday 7 December 16:00 without pauses


@pytest.mark.parametrize(("pauses", "due"), [
    ([], wib(2026, 12, 7, 16)),
    # One full working day of pause moves the deadline one working day.
    ([(wib(2026, 12, 1, 10), wib(2026, 12, 2, 10))], wib(2026, 12, 8, 16)),
    # Friday 15:00 to Monday 09:00 is two office hours, not a weekend.
    ([(wib(2026, 12, 4, 15), wib(2026, 12, 7, 9))], wib(2026, 12, 8, 10)),
    # Two pauses add up.
    ([(wib(2026, 12, 1, 10), wib(2026, 12, 2, 10)),
      (wib(2026, 12, 4, 15), wib(2026, 12, 7, 9))], wib(2026, 12, 9, 10)),
    # Overlapping spans are counted once.
    ([(wib(2026, 12, 1, 10), wib(2026, 12, 2, 10)),
      (wib(2026, 12, 1, 12), wib(2026, 12, 1, 14))], wib(2026, 12, 8, 16)),
    # A pause outside office hours costs nothing.
    ([(wib(2026, 12, 1, 17), wib(2026, 12, 2, 7))], wib(2026, 12, 7, 16)),
    # Time before receipt is not clock time.
    ([(wib(2026, 11, 27, 9), wib(2026, 11, 30, 10))], wib(2026, 12, 8, 9)),
    # A pause running past the original deadline: 1 office hour was left when it began.
    ([(wib(2026, 12, 7, 15), wib(2026, 12, 9, 12))], wib(2026, 12, 9, 13)),
    # Given in UTC.
    ([(datetime(2026, 12, 1, 3, tzinfo=UTC), datetime(2026, 12, 2, 3, tzinfo=UTC))],
     wib(2026, 12, 8, 16)),
])
def test_pauses_shift_the_deadline(
    cal: WorkingCalendar, pauses: list[tuple[datetime, datetime]], due: datetime
) -> None:
    assert cal.due_date(RECEIVED, 5, pauses) == due


def test_pause_over_cuti_bersama_costs_nothing(cal_cuti: WorkingCalendar) -> None:
    received = wib(2026, 3, 17, 10)
    pause = [(wib(2026, 3, 17, 16), wib(2026, 3, 25, 8))]  # asked to fix before the break
    assert cal_cuti.due_date(received, 5, pause) == wib(2026, 3, 31, 16)


# --- timezones --------------------------------------------------------------------------------


def test_wita_and_wib_differ_for_the_same_instant() -> None:
    instant = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)  # 15:30 WIB, 16:30 WITA, 17:30 WIT
    wib_cal = WorkingCalendar(tz="Asia/Jakarta")
    wita_cal = WorkingCalendar(tz="Asia/Makassar")
    wit_cal = WorkingCalendar(tz="Asia/Jayapura")
    assert wib_cal.due_date(instant, 5) == datetime(2026, 12, 3, 16, tzinfo=WIB)
    assert wita_cal.due_date(instant, 5) == datetime(2026, 12, 4, 16, tzinfo=WITA)
    assert wit_cal.due_date(instant, 5) == datetime(2026, 12, 4, 16, tzinfo=WIT)
    assert wita_cal.due_date(instant, 5).utcoffset() == timedelta(hours=8)
    # 16:00 WITA is an hour before 16:00 WIB on the same day.
    assert (datetime(2026, 12, 4, 16, tzinfo=WITA)
            == datetime(2026, 12, 4, 15, tzinfo=WIB))


def test_naive_datetimes_are_refused(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.due_date(datetime(2026, 11, 30, 9), 5)  # noqa: DTZ001 - the point of the test


def test_office_hours_configurable() -> None:
    friday_late = WorkingCalendar(office_start=time(7, 30), office_end=time(16, 30))
    assert friday_late.day_length == timedelta(hours=9)
    assert friday_late.due_date(wib(2026, 11, 26, 16, 15), 5) == wib(2026, 12, 3, 16, 30)
    with pytest.raises(ValueError):
        WorkingCalendar(office_start=time(16), office_end=time(8))


# --- elapsed time and status ------------------------------------------------------------------


def test_working_days_between(cal: WorkingCalendar, cal_cuti: WorkingCalendar) -> None:
    assert cal.working_days_between(wib(2026, 11, 30, 8), wib(2026, 12, 2, 12)) == 2.5
    assert cal.working_days_between(wib(2026, 12, 4, 12), wib(2026, 12, 7, 12)) == 1.0
    assert cal.working_days_between(wib(2026, 12, 7, 12), wib(2026, 12, 4, 12)) == -1.0
    assert cal.working_days_between(wib(2026, 11, 28, 9), wib(2026, 11, 29, 9)) == 0.0
    # Evening to next morning: no office time passed.
    assert cal.working_days_between(wib(2026, 12, 1, 17), wib(2026, 12, 2, 7)) == 0.0
    # Lebaran 2026 with cuti bersama: Tuesday 17 to Wednesday 25 March is one working day.
    assert cal_cuti.working_days_between(wib(2026, 3, 17, 8), wib(2026, 3, 25, 8)) == 1.0


@pytest.mark.parametrize(("now", "soon_days", "status"), [
    (wib(2026, 12, 1, 10), 1, ON_TIME),
    (wib(2026, 12, 4, 10), 1, ON_TIME),  # 1.75 working days left
    (wib(2026, 12, 4, 10), 2, DUE_SOON),
    (wib(2026, 12, 4, 16), 1, DUE_SOON),  # exactly one working day left
    (wib(2026, 12, 7, 9), 1, DUE_SOON),
    (wib(2026, 12, 7, 16), 1, DUE_SOON),  # the last moment is still in time
    (wib(2026, 12, 7, 16, 1), 1, OVERDUE),
    (datetime(2026, 12, 7, 9, 1, tzinfo=UTC), 1, OVERDUE),  # 16:01 WIB
])
def test_sla_status(cal: WorkingCalendar, now: datetime, soon_days: float, status: str) -> None:
    due = wib(2026, 12, 7, 16)
    assert cal.sla_status(due, now, due_soon_days=soon_days) == status
    # a list row passes the days left it computed already: the same answer
    assert cal.sla_status(due, now, due_soon_days=soon_days,
                          days_left=cal.working_days_between(now, due)) == status


@settings(max_examples=150, deadline=None)
@given(first=st.dates(date(2024, 1, 1), date(2027, 12, 31)), span=st.integers(0, 800),
       extra=st.sets(st.dates(date(2024, 1, 1), date(2028, 12, 31)), max_size=6),
       working=st.sets(st.dates(date(2024, 1, 1), date(2028, 12, 31)), max_size=6))
def test_working_days_are_counted_as_a_walk_through_the_days_would(
        first: date, span: int, extra: set[date], working: set[date]) -> None:
    """The arithmetic count (weeks, then the holidays of each year by bisection) agrees with
    asking every day of the span whether it is a working day, whatever holidays and
    declared working days the administrator added."""
    cal = WorkingCalendar(extra_holidays={d: "libur daerah" for d in extra},
                          extra_working_days=working)
    last = first + timedelta(days=span)
    walked = sum(cal.is_working_day(first + timedelta(days=i)) for i in range(span + 1))
    assert cal._working_days_in(first, last) == walked
    assert cal._working_days_in(first, last) == walked  # again, from the kept holidays
