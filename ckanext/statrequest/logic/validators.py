"""Validators of the statrequest schemas (registered with CKAN, prefixed `statrequest_`)."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import ckantoolkit as tk

Invalid = tk.Invalid
_ = tk._
missing = tk.missing

__all__ = [
    "statrequest_text",
    "statrequest_email",
    "statrequest_identity_number",
    "statrequest_phone",
    "statrequest_id_list",
    "statrequest_dataset_list",
    "statrequest_organization_list",
    "statrequest_user_id",
    "statrequest_true",
    "statrequest_int",
    "statrequest_date",
    "statrequest_secret",
    "statrequest_year",
    "DATE_MIN",
    "DATE_MAX",
]

# The one range of dates and numbers every schema accepts. Anything outside can only be a
# mistake or an attack, and would otherwise overflow Python's date arithmetic or
# PostgreSQL's integer columns (an out-of-range OFFSET aborts the whole transaction).
DATE_MIN = dt.date(2000, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)
YEAR_MIN, YEAR_MAX = DATE_MIN.year, DATE_MAX.year
MAX_LIMIT = 1000
MAX_OFFSET = 10_000_000
MAX_PAGE = 500_000
MAX_VERSION = 2_000_000_000  # below PostgreSQL's integer maximum
MAX_ID = 100  # ids, names and tracking numbers are far shorter

# Anything that looks like markup: an HTML tag, a comment or an entity-encoded tag.
_MARKUP = re.compile(r"<\s*[a-zA-Z/!?]|&lt;\s*[a-zA-Z/]|javascript:", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NIK = re.compile(r"^\d{16}$")
_OTHER_ID = re.compile(r"^[A-Za-z0-9./\- ]{3,40}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,19}$")


def statrequest_text(max_length: int):
    """Plain text: stripped, no control characters, no markup, at most `max_length` chars."""

    def validator(value: Any) -> Any:
        if value is missing or value is None:
            return value
        if not isinstance(value, str):
            raise Invalid(_("Must be text."))
        value = value.strip()
        if _CONTROL.search(value):
            raise Invalid(_("Contains characters that are not allowed."))
        if _MARKUP.search(value):
            raise Invalid(_("HTML or script is not allowed here; please write plain text."))
        if len(value) > max_length:
            raise Invalid(_("Must be at most %(max)s characters long.") % {"max": max_length})
        return value

    return validator


def statrequest_email(value: Any, context: dict[str, Any]) -> Any:
    """An email address: plain text of at most 254 characters that CKAN's email validator
    accepts. A value that is no text is refused as such and never reaches the address
    pattern (a number there would be a server error, not a message)."""
    value = statrequest_text(254)(value)
    if value is missing or value is None or value == "":
        return value
    return tk.get_validator("email_validator")(value, context)


def statrequest_identity_number(key: Any, data: dict[Any, Any], errors: dict[Any, Any],
                                context: dict[str, Any]) -> None:
    """A NIK has 16 digits; other identity numbers are 3–40 letters, digits and . / -."""
    value = data.get(key)
    if value is missing or value in (None, ""):
        return
    value = str(value).strip().replace(" ", "") if data.get(("identity_type",)) == "nik" \
        else str(value).strip()
    kind = data.get(("identity_type",))
    if kind == "nik" and not _NIK.match(value):
        errors[key].append(_("A NIK has exactly 16 digits."))
    elif kind != "nik" and not _OTHER_ID.match(value):
        errors[key].append(_("Use 3 to 40 letters, digits, dots, slashes or dashes."))
    data[key] = value


def statrequest_phone(value: Any) -> Any:
    if value is missing or value in (None, ""):
        return value
    value = str(value).strip()
    if not _PHONE.match(value):
        raise Invalid(_("Enter a phone number of 6 to 20 digits."))
    return value


def statrequest_id_list(value: Any) -> list[str]:
    """A list of ids given as a list, a comma-separated string or a single id."""
    if value is missing or value in (None, ""):
        return []
    if isinstance(value, str):
        value = [v for v in (p.strip() for p in value.split(",")) if v]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise Invalid(_("Must be a list of identifiers."))
    if len(value) > 20:
        raise Invalid(_("At most 20 items."))
    if any(len(v) > MAX_ID or _CONTROL.search(v) for v in value):
        raise Invalid(_("Must be a list of identifiers."))
    return list(dict.fromkeys(v.strip() for v in value))


def _resolve(value: list[str], lookup, message: str) -> list[str]:
    ids = []
    for ref in value:
        obj = lookup(ref)
        if obj is None or obj.state != "active":
            raise Invalid(message % {"ref": ref})
        ids.append(obj.id)
    return ids


def statrequest_dataset_list(value: Any, context: dict[str, Any]) -> list[str]:
    import ckan.model as model

    ids = _resolve(statrequest_id_list(value), model.Package.get,
                   _("Dataset not found: %(ref)s"))
    return ids


def statrequest_organization_list(value: Any, context: dict[str, Any]) -> list[str]:
    """OPD organisations by id or name, converted to ids; any other organisation is refused."""
    import ckan.model as model
    from sqlalchemy import or_, select

    from ckanext.statrequest.lib import opd

    refs = statrequest_id_list(value)
    # one query for all of them (routing to several OPD), by id first, then by name
    by_id: dict[str, Any] = {}
    by_name: dict[str, Any] = {}
    if refs:
        for group in model.Session.scalars(select(model.Group).where(
                or_(model.Group.id.in_(refs), model.Group.name.in_(refs)))):
            by_id[group.id] = group
            by_name[group.name] = group

    def lookup(ref: str):
        group = by_id.get(ref) or by_name.get(ref)
        return group if group is not None and group.is_organization else None

    ids = _resolve(refs, lookup, _("Organisation not found: %(ref)s"))
    for ref in refs:
        if not opd.is_opd(lookup(ref)):
            raise Invalid(_("%(ref)s is not an agency (OPD) that data can be requested from.")
                          % {"ref": ref})
    return ids


def statrequest_user_id(value: Any, context: dict[str, Any]) -> Any:
    """A user name or id of an active user, converted to the id."""
    import ckan.model as model

    if value is missing or value in (None, ""):
        return value
    if not isinstance(value, str) or len(value) > MAX_ID or _CONTROL.search(value):
        raise Invalid(_("User not found: %(ref)s")
                      % {"ref": _CONTROL.sub("", str(value))[:MAX_ID]})
    user = model.User.get(value)
    if user is None or user.state != "active":
        raise Invalid(_("User not found: %(ref)s") % {"ref": value})
    return user.id


def statrequest_true(value: Any) -> bool:
    if str(value).lower() not in ("true", "1", "yes", "on", "y", "t"):
        raise Invalid(_("You must agree to continue."))
    return True


def statrequest_int(min_value: int = 0, max_value: int = MAX_OFFSET):
    """A whole number in [min_value, max_value], given as a number or as digits.

    Replaces CKAN's unbounded natural_number_validator: a page, limit, offset, version or year
    far outside what the service can hold is refused with a clear message.
    """

    def validator(value: Any) -> Any:
        if value is missing or value is None:
            return value
        if value == "":
            return None
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and len(value.strip()) <= 20 \
                and re.fullmatch(r"[+-]?\d+", value.strip()):
            number = int(value.strip())
        if number is None or not min_value <= number <= max_value:
            raise Invalid(_("Enter a whole number from %(min)s to %(max)s.")
                          % {"min": min_value, "max": max_value})
        return number

    return validator


def statrequest_year(value: Any) -> Any:
    """A calendar year the service could have records for (as the range of dates)."""
    if value is missing or value in (None, ""):
        return missing
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) \
        else ""
    if not text.isdigit() or len(text) != 4 or not YEAR_MIN <= int(text) <= YEAR_MAX:
        raise Invalid(_("Enter a year between 2000 and 2100."))
    return int(text)


def statrequest_date(value: Any) -> Any:
    """An ISO date (YYYY-MM-DD, or an ISO date and time) between DATE_MIN and DATE_MAX.

    Returns a naive datetime, like CKAN's isodate that it replaces.
    """
    if value is missing or value is None:
        return value
    if value == "":
        return None
    parsed: dt.datetime | None = None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time(0))
    elif isinstance(value, str) and len(value.strip()) <= 40:
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        raise Invalid(_("Enter a date as YYYY-MM-DD."))
    if parsed.tzinfo is not None:
        parsed = parsed.replace(tzinfo=None)
    if not DATE_MIN <= parsed.date() <= DATE_MAX:
        raise Invalid(_("Enter a date from %(min)s to %(max)s.")
                      % {"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()})
    return parsed


def statrequest_secret(max_length: int):
    """A passphrase or PIN: kept as typed (not stripped), only bounded and free of NUL."""

    def validator(value: Any) -> Any:
        if value is missing or value is None or value == "":
            return value
        if not isinstance(value, str) or "\x00" in value:
            raise Invalid(_("Must be text."))
        if len(value) > max_length:
            raise Invalid(_("Must be at most %(max)s characters long.") % {"max": max_length})
        return value

    return validator


def query_int(args: Any, name: str, default: int, min_value: int, max_value: int) -> int:
    """A whole-number query parameter of a page (page, year...), bounded like the API's.

    Absent or empty: `default`; anything else outside the range is a ValidationError, which
    the pages answer with 400.
    """
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        return statrequest_int(min_value, max_value)(value)
    except Invalid as exc:
        raise tk.ValidationError({name: [exc.error]}) from None
