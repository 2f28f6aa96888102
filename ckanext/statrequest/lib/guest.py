"""Guest mode: a visitor without an account submits with an email address and follows the
request through a signed link sent to that address (no password, no account).

The link carries the request id and its issue time, signed with the portal's secret, so it
cannot be guessed, altered or back-dated; whoever holds it acts as the requester of that one
request until it expires (`ckanext.statrequest.guest_link_days` after it was issued). Every
email to the guest carries a freshly issued link.
"""
from __future__ import annotations

import enum

import ckantoolkit as tk
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from ckanext.statrequest import settings

SALT = "statrequest-guest-link"
DAY = 24 * 3600


class Status(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


def enabled() -> bool:
    return tk.asbool(settings.get("guest_mode"))


def links_open() -> bool:
    """Guest links work in guest mode, and wherever a front desk registers requests for
    people without an account (they follow their request by the same link)."""
    return enabled() or settings.workflow().front_desk_position is not None


def lifetime_days() -> int:
    return int(settings.get("guest_link_days") or 90)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.core("SECRET_KEY"), salt=SALT)


def make_token(request_id: str) -> str:
    return _serializer().dumps(request_id)


def check(token: str | None) -> tuple[Status, str | None]:
    """(status, request id) of a guest token; the id only for a valid one."""
    if not token or not links_open() or len(token) > 200:
        return Status.INVALID, None
    try:
        value = _serializer().loads(token, max_age=lifetime_days() * DAY)
    except SignatureExpired:
        return Status.EXPIRED, None
    except BadSignature:
        return (Status.EXPIRED if _untimed(token) else Status.INVALID), None
    return (Status.VALID, value) if isinstance(value, str) else (Status.INVALID, None)


def _untimed(token: str) -> bool:
    """A genuine link of the first format, without an issue time: treated as expired."""
    try:
        URLSafeSerializer(settings.core("SECRET_KEY"), salt=SALT).loads(token)
    except BadSignature:
        return False
    return True


def request_id_from(token: str | None) -> str | None:
    """The request a guest token opens, or None for a missing, forged, altered or expired
    token."""
    return check(token)[1]


def link(request_id: str) -> str:
    return f"{settings.site_url()}/permintaan-data/tamu/{make_token(request_id)}"
