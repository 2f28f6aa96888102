"""Validators of the statrequest schemas (registered with CKAN, prefixed `statrequest_`)."""
from __future__ import annotations

import re
from typing import Any

import ckantoolkit as tk

Invalid = tk.Invalid
_ = tk._
missing = tk.missing

__all__ = [
    "statrequest_text",
    "statrequest_identity_number",
    "statrequest_phone",
    "statrequest_id_list",
    "statrequest_dataset_list",
    "statrequest_organization_list",
    "statrequest_user_id",
    "statrequest_true",
]

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
    import ckan.model as model

    def lookup(ref: str):
        group = model.Group.get(ref)
        return group if group is not None and group.is_organization else None

    return _resolve(statrequest_id_list(value), lookup, _("Organisation not found: %(ref)s"))


def statrequest_user_id(value: Any, context: dict[str, Any]) -> Any:
    """A user name or id of an active user, converted to the id."""
    import ckan.model as model

    if value is missing or value in (None, ""):
        return value
    user = model.User.get(str(value))
    if user is None or user.state != "active":
        raise Invalid(_("User not found: %(ref)s") % {"ref": value})
    return user.id


def statrequest_true(value: Any) -> bool:
    if str(value).lower() not in ("true", "1", "yes", "on", "y", "t"):
        raise Invalid(_("You must agree to continue."))
    return True
