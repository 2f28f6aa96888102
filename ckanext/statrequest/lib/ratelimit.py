"""Spam and abuse: submission limits per account and per IP address, and a honeypot field.

`check_submission` runs at the top of `statrequest_create` and refuses before anything is
written. The counts live in Redis, shared by every web process: one sorted set per account and
per address holding the time of each accepted submission (sliding windows of an hour and a
day). A submission is counted when it has been committed (`on_submitted`, from the
`letters.transitioned` signal), so a form rejected for a missing file costs nothing.
Concurrent submissions may overshoot a limit by the few that are in flight together.
If Redis is down the limits are not enforced: accepting requests matters more.
Diskominfo officials and sysadmins (who may enter requests for walk-in citizens) are not limited.

`check_ip_rate` limits the anonymous public look-ups (verifying an uploaded letter, tracking a
request) per IP address in the same way, counting each call as it is made. Over the limit it
raises `RateLimited`, which the pages answer with 429, and the action API too (`views.verify`
turns the API's 409 for this error into 429 with Retry-After).
"""
from __future__ import annotations

import logging
import math
import time
import uuid
from typing import Any

import ckantoolkit as tk
import redis
from ckan.lib.redis import connect_to_redis

from ckanext.statrequest import settings
from ckanext.statrequest.lib import access

log = logging.getLogger(__name__)
_ = tk._

MINUTE, HOUR, DAY = 60, 3600, 86400


def client_ip() -> str | None:
    """The caller's address when in a web request (behind a proxy, configure CKAN's
    ProxyFix so that this is the client's and not the proxy's)."""
    import flask

    return flask.request.remote_addr if flask.has_request_context() else None


def _key(scope: str, ident: str) -> str:
    return f"ckan:{settings.core('ckan.site_id')}:statrequest:submissions:{scope}:{ident}"


def _limits(scope: str) -> list[tuple[int, int]]:
    """(window in seconds, most submissions allowed in it); a limit of 0 is no limit."""
    pairs = [(HOUR, int(settings.get(f"limit.{scope}_per_hour"))),
             (DAY, int(settings.get(f"limit.{scope}_per_day")))]
    return [(window, limit) for window, limit in pairs if limit > 0]


def _subjects(user_id: str | None, ip: str | None) -> list[tuple[str, str]]:
    return [(scope, ident) for scope, ident in (("user", user_id), ("ip", ip)) if ident]


def _refusal(wait: float) -> tk.ValidationError:
    minutes = max(1, math.ceil(wait / 60))
    if minutes <= 90:
        text = _("You have submitted too many requests. Please try again in %(minutes)s "
                 "minutes.") % {"minutes": minutes}
    else:
        text = _("You have submitted too many requests. Please try again in %(hours)s "
                 "hours.") % {"hours": math.ceil(minutes / 60)}
    return tk.ValidationError({"submission": [text]})


def check_honeypot(data_dict: dict[str, Any]) -> None:
    field = settings.get("honeypot_field")
    value = data_dict.get(field) if field else None
    if value not in (None, "") and str(value).strip():
        log.info("statrequest honeypot field %r filled from %s", field, client_ip())
        raise tk.ValidationError({"submission": [_("This request could not be accepted.")]})


def check_submission(context: dict[str, Any], data_dict: dict[str, Any] | None = None) -> None:
    """Refuse a submission (ValidationError, nothing written) that fills the honeypot field or
    goes over the configured limits of the account or of the IP address."""
    check_honeypot(data_dict or {})
    actor = access.context_actor(context)
    if actor.is_staff:
        return
    now = time.time()
    try:
        conn = connect_to_redis()
        for scope, ident in _subjects(actor.user_id, client_ip()):
            key = _key(scope, ident)
            for window, limit in _limits(scope):
                recent = conn.zrangebyscore(key, now - window, "+inf", withscores=True)
                if len(recent) >= limit:
                    # free again when the oldest counted submission leaves the window
                    oldest = recent[len(recent) - limit][1]
                    raise _refusal(oldest + window - now)
    except redis.RedisError:
        log.warning("submission limits not checked: Redis is unavailable", exc_info=True)


def record_submission(request_id: str, user_id: str | None, ip: str | None) -> None:
    now = time.time()
    conn = connect_to_redis()
    pipe = conn.pipeline()
    for scope, ident in _subjects(user_id, ip):
        if not _limits(scope):  # nothing to enforce, nothing to keep
            continue
        key = _key(scope, ident)
        pipe.zadd(key, {request_id: now})
        pipe.zremrangebyscore(key, "-inf", now - DAY)  # older than any window
        pipe.expire(key, DAY)
    pipe.execute()


def on_submitted(sender: str, **kwargs: Any) -> None:
    """Receiver of `letters.transitioned` for "ajukan": count the committed submission."""
    from ckan import model

    from ckanext.statrequest.model import Request

    try:
        request = model.Session.get(Request, str(kwargs.get("request_id")))
        if request is not None:
            record_submission(request.id, request.requester_id, client_ip())
    except Exception:  # never fail the submission that was just committed
        log.exception("could not count submission %s", kwargs.get("request_id"))


# --- public look-ups per IP address ------------------------------------------------------------

class RateLimited(tk.ValidationError):
    """Too many calls from one address; ``retry_after`` in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__({"limit": [message]})
        self.retry_after = retry_after


def _hits_key(action: str, ip: str) -> str:
    return f"ckan:{settings.core('ckan.site_id')}:statrequest:hits:{action}:{ip}"


def _ip_limits(action: str) -> list[tuple[int, int]]:
    pairs = [(MINUTE, int(settings.get(f"limit.{action}_per_minute") or 0)),
             (HOUR, int(settings.get(f"limit.{action}_per_hour") or 0))]
    return [(window, limit) for window, limit in pairs if limit > 0]


def check_ip_rate(action: str) -> None:
    """Count one call of ``action`` ("verify", "track") from the caller's address, or refuse it
    with `RateLimited` when the address is over a limit (refused calls are not counted).
    Outside a web request (jobs, commands) and when Redis is down nothing is limited."""
    import flask

    ip = client_ip()
    limits = _ip_limits(action)
    if not ip or not limits:
        return
    now = time.time()
    longest = max(window for window, _limit in limits)
    key = _hits_key(action, ip)
    try:
        conn = connect_to_redis()
        conn.zremrangebyscore(key, "-inf", now - longest)
        times = [score for _member, score in
                 conn.zrangebyscore(key, now - longest, "+inf", withscores=True)]
        for window, limit in limits:
            recent = [t for t in times if t > now - window]
            if len(recent) >= limit:
                # free again when the oldest counted call leaves the window
                wait = max(1, math.ceil(recent[len(recent) - limit] + window - now))
                flask.g.statrequest_retry_after = wait
                log.info("statrequest %s limit reached for %s", action, ip)
                raise RateLimited(_(
                    "Too many attempts from your address. Please wait %(minutes)s minute(s) "
                    "and try again.") % {"minutes": max(1, math.ceil(wait / 60))}, wait)
        pipe = conn.pipeline()
        pipe.zadd(key, {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
        pipe.expire(key, longest)
        pipe.execute()
    except redis.RedisError:
        log.warning("%s limits not checked: Redis is unavailable", action, exc_info=True)


def clear_ip_rate(action: str, ip: str) -> None:
    """Forget the calls counted for an address (tests, or an operator lifting a block)."""
    connect_to_redis().delete(_hits_key(action, ip))
