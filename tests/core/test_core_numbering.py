"""Tracking numbers, letter numbers and Indonesian dates."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ckanext.statrequest.core.numbering import (
    TrackingNumber,
    format_letter_number,
    format_tracking_number,
    indonesian_date,
    letter_number_fields,
    parse_tracking_number,
    roman_month,
)


def test_format_tracking_number() -> None:
    assert format_tracking_number(2026, 1) == "PDS-2026-00001"
    assert format_tracking_number(2026, 4321) == "PDS-2026-04321"
    assert format_tracking_number(2027, 123456) == "PDS-2027-123456"  # grows, never wraps
    for year, seq in [(2026, 0), (2026, -1), (26, 1), (20260, 1)]:
        with pytest.raises(ValueError):
            format_tracking_number(year, seq)


def test_parse_tracking_number() -> None:
    assert parse_tracking_number("PDS-2026-00001") == TrackingNumber(2026, 1)
    assert parse_tracking_number("PDS-2027-123456") == (2027, 123456)
    assert parse_tracking_number("  pds-2026-00042\n") == TrackingNumber(year=2026, seq=42)
    for year, seq in [(2026, 1), (2026, 99999), (2030, 100000)]:
        assert parse_tracking_number(format_tracking_number(year, seq)) == (year, seq)


@pytest.mark.parametrize("garbage", [
    "", "PDS", "PDS-2026", "PDS-2026-", "PDS-2026-0001", "PDS-2026-000001", "PDS-2026-00000",
    "PDS-26-00001", "PDS-0999-00001", "PDS/2026/00001", "PDS 2026 00001", "PDS-2026-00001x",
    "XPDS-2026-00001", "ABC-2026-00001", "PDS-2026-00001; DROP TABLE", "PDS-2026-1e3",
    "PDS-２０２６-00001", "PDS-2026-٠٠٠٠١", "PDS--2026-00001", "PDS-2026-00 01",
    None, 2026, b"PDS-2026-00001",
])
def test_parse_tracking_number_rejects_garbage(garbage: Any) -> None:
    with pytest.raises(ValueError):
        parse_tracking_number(garbage)


def test_roman_month() -> None:
    assert [roman_month(m) for m in range(1, 13)] == [
        "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
    for bad in (0, 13):
        with pytest.raises(ValueError):
            roman_month(bad)


def test_indonesian_date() -> None:
    assert indonesian_date(date(2026, 11, 29)) == "29 November 2026"
    assert indonesian_date(date(2026, 2, 1)) == "1 Februari 2026"
    assert indonesian_date(date(2026, 8, 17)) == "17 Agustus 2026"
    assert indonesian_date(date(2026, 5, 5)) == "5 Mei 2026"
    assert indonesian_date(date(2026, 11, 29), with_weekday=True) == "Minggu, 29 November 2026"
    assert indonesian_date(date(2026, 8, 17), with_weekday=True) == "Senin, 17 Agustus 2026"
    assert indonesian_date(date(2026, 3, 20), with_weekday=True) == "Jumat, 20 Maret 2026"


def test_format_letter_number() -> None:
    pattern = "{seq:03d}/{kode}/DISKOMINFO/{bulan_romawi}/{tahun}"
    assert format_letter_number(pattern, 7, date(2026, 11, 29), kode="000.9.2") == (
        "007/000.9.2/DISKOMINFO/XI/2026")
    assert format_letter_number("500.12.11.3/{seq}/DISKOMINFO-A/{tahun}", 344,
                                date(2024, 6, 3)) == "500.12.11.3/344/DISKOMINFO-A/2024"
    assert format_letter_number("{tanggal:02d}.{bulan:02d}/{seq}", 12, date(2026, 3, 5)) == (
        "05.03/12")
    assert format_letter_number("{{literal}}/{seq}", 1, date(2026, 1, 1)) == "{literal}/1"


def test_letter_number_pattern_errors() -> None:
    with pytest.raises(ValueError, match="unknown placeholder.*kode"):
        format_letter_number("{seq}/{kode}/{tahun}", 1, date(2026, 1, 1))
    for unsafe in ("{seq.__class__}", "{kode[0]}", "{0}", "{}", "{seq:{width}}"):
        with pytest.raises(ValueError):
            format_letter_number(unsafe, 1, date(2026, 1, 1), kode="x", width="3")
    assert letter_number_fields("{seq:03d}/{kode}/{bulan_romawi}/{tahun}") == [
        "seq", "kode", "bulan_romawi", "tahun"]
