"""Guest mode: a visitor without an account submits with an email address and follows the
request through a signed link sent to that address (no password, no account).

The link carries the request id signed with the portal's secret, so it cannot be guessed or
altered; whoever holds it acts as the requester of that one request.
"""
from __future__ import annotations

import ckantoolkit as tk
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "statrequest-guest-link"


def enabled() -> bool:
    return tk.asbool(tk.config.get("ckanext.statrequest.guest_mode"))


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(tk.config.get("SECRET_KEY"), salt=SALT)


def make_token(request_id: str) -> str:
    return _serializer().dumps(request_id)


def request_id_from(token: str | None) -> str | None:
    """The request a guest token opens, or None for a missing, forged or altered token."""
    if not token or not enabled() or len(token) > 200:
        return None
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def link(request_id: str) -> str:
    return (tk.config.get("ckan.site_url").rstrip("/")
            + f"/permintaan-data/tamu/{make_token(request_id)}")
