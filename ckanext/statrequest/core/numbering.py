"""Request tracking numbers, letter numbers (nomor surat) and Indonesian dates. All pure."""

from __future__ import annotations

import re
import string
from datetime import date
from typing import Any, NamedTuple

TRACKING_PREFIX = "PDS"  # Permintaan Data Statistik

MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember")
WEEKDAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")

# ASCII digits only: \d would also accept e.g. Arabic-Indic digits.
_TRACKING_RE = re.compile(r"^([A-Z]+)-([0-9]{4})-([0-9]{5,})$")
_FIELD_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


class TrackingNumber(NamedTuple):
    year: int
    seq: int


def format_tracking_number(year: int, seq: int, prefix: str = TRACKING_PREFIX) -> str:
    """`PDS-2026-00001`: a per-year counter, five digits, growing past 99999 if needed."""
    if not 1000 <= year <= 9999:
        raise ValueError(f"year out of range: {year}")
    if seq < 1:
        raise ValueError(f"sequence must be positive: {seq}")
    return f"{prefix}-{year:04d}-{seq:05d}"


AGENDA_CODE = "AGD"  # the incoming-letter register (buku agenda surat masuk)


def format_agenda_number(year: int, seq: int, code: str = AGENDA_CODE) -> str:
    """`0001/AGD/2026`: the per-year number of the incoming-letter register, four digits,
    growing past 9999 if needed."""
    if not 1000 <= year <= 9999:
        raise ValueError(f"year out of range: {year}")
    if seq < 1:
        raise ValueError(f"sequence must be positive: {seq}")
    return f"{seq:04d}/{code}/{year:04d}"


def parse_tracking_number(text: str, prefix: str = TRACKING_PREFIX) -> TrackingNumber:
    """Parse a tracking number typed or pasted by a person.

    Surrounding spaces and lower case are forgiven; anything else that is not exactly the
    canonical form (other prefix, extra zeros, sequence 0, other separators) is a ValueError.
    """
    if not isinstance(text, str):
        raise ValueError("tracking number must be a string")
    match = _TRACKING_RE.match(text.strip().upper())
    if match is None or match.group(1) != prefix:
        raise ValueError(f"not a tracking number: {text!r}")
    number = TrackingNumber(int(match.group(2)), int(match.group(3)))
    # Canonical form only, so one request has exactly one spelling (e.g. no "000001").
    if number.seq < 1 or number.year < 1000 or (
        format_tracking_number(*number, prefix=prefix) != match.group(0)
    ):
        raise ValueError(f"not a tracking number: {text!r}")
    return number


def roman_month(month: int) -> str:
    """Month in Roman numerals, as in Indonesian letter numbers: 11 -> "XI"."""
    if not 1 <= month <= 12:
        raise ValueError(f"month out of range: {month}")
    return _ROMAN_MONTHS[month - 1]


def indonesian_date(d: date, with_weekday: bool = False) -> str:
    """`29 November 2026`, or `Minggu, 29 November 2026`."""
    text = f"{d.day} {MONTHS_ID[d.month - 1]} {d.year}"
    return f"{WEEKDAYS_ID[d.weekday()]}, {text}" if with_weekday else text


def letter_number_fields(pattern: str) -> list[str]:
    """Placeholder names used by a letter-number pattern (for validating the setting).

    Only plain names are allowed: `{seq.__class__}` or `{x[0]}` in an admin-edited
    pattern would otherwise reach into Python objects.
    """
    names: list[str] = []
    for _, name, spec, _ in string.Formatter().parse(pattern):
        if name is None:
            continue
        if not _FIELD_RE.match(name):
            raise ValueError(f"invalid placeholder {{{name}}} in letter number pattern")
        if spec and "{" in spec:
            raise ValueError("nested placeholders are not allowed in a letter number pattern")
        names.append(name)
    return names


# Classification codes (kode klasifikasi arsip) are dotted numbers, e.g. 000.9.2, 500.12.11.3.
_CLASSIFICATION_RE = re.compile(r"^[0-9]{1,4}(\.[0-9]{1,4}){0,6}$")


def format_letter_number(pattern: str, seq: int, when: date, classification: str | None = None,
                         **extra: Any) -> str:
    """Render a nomor surat, e.g. `{kode}/{seq:03d}/DISKOMINFO/{tahun}`.

    Built-in placeholders: seq, tahun (year), bulan (month number), bulan_romawi,
    tanggal (day), kode (the archival classification code, `classification`); anything
    else comes from `extra`.
    """
    values: dict[str, Any] = {
        "seq": seq,
        "tahun": when.year,
        "bulan": when.month,
        "bulan_romawi": roman_month(when.month),
        "tanggal": when.day,
        **extra,
    }
    if classification is not None:
        if not _CLASSIFICATION_RE.match(classification):
            raise ValueError(f"not a classification code (e.g. 000.9.2): {classification!r}")
        values["kode"] = classification
    missing = [n for n in letter_number_fields(pattern) if n not in values]
    if missing:
        raise ValueError("letter number pattern uses unknown placeholder(s): "
                         + ", ".join(sorted(set(missing))))
    return pattern.format(**values)
