"""The public verification pages of signed reply letters (the QR code leads here)."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import ckantoolkit as tk
import flask
from babel.dates import format_date, format_datetime
from flask import Blueprint

from ckanext.statrequest import settings
from ckanext.statrequest.lib.ratelimit import RateLimited
from ckanext.statrequest.views.common import context

statrequest_verify = Blueprint(
    "statrequest_verify", __name__, url_prefix="/permintaan-data/verifikasi")


def _when(value: str | None, with_time: bool) -> str | None:
    """An ISO date or instant from the action, written for the reader's language."""
    if not value:
        return None
    locale = tk.h.lang() or "id"
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if with_time:  # the office's time, with its offset so that nobody has to guess the zone
        return format_datetime(parsed, "d MMMM y, HH:mm xxx", locale=locale)
    return format_date(parsed.date(), "long", locale=locale)


def _display(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if not data:
        return data
    if "date" in data:
        data["date_display"] = _when(data["date"], with_time=False)
    for signer in data.get("signers") or []:
        signer["signed_at_display"] = _when(signer.get("signed_at"), with_time=True)
    _display(data.get("letter"))
    return data


def _check(code: str | None) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """Run the action on the posted file (and the page's letter); errors for the form."""
    data: dict[str, Any] = {"upload": tk.request.files.get("upload")}
    if code:
        data["id"] = code
    try:
        result = tk.get_action("statrequest_verify")(context(), data)
    except RateLimited as exc:
        return None, {"upload": list(exc.error_dict["limit"])}
    except tk.ValidationError as exc:
        return None, exc.error_dict  # type: ignore[return-value]
    if result["status"] is None:  # the letter page was posted without a file
        return None, {"upload": [tk._("Please choose a PDF file.")]}
    return _display(result), {}


def _extra() -> dict[str, Any]:
    """What the upload form says of the file it takes."""
    return {"max_mb": int(settings.get("verify.max_upload_mb"))}


def _status() -> int:
    """429 when the upload was refused for the address's rate limit, else 200."""
    return 429 if getattr(flask.g, "statrequest_retry_after", None) else 200


@statrequest_verify.after_app_request
def _rate_limited_api_answer(response: flask.Response) -> flask.Response:
    """The action API answers every ValidationError with 409; a rate-limit refusal of our
    actions (statrequest_verify, statrequest_track) must be a 429 with Retry-After."""
    retry = getattr(flask.g, "statrequest_retry_after", None)
    if retry and flask.request.blueprint == "api" and response.status_code == 409:
        response.status_code = 429
        response.headers["Retry-After"] = str(retry)
        payload = response.get_json(silent=True)
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            error = payload["error"]
            payload["error"] = {"__type": "Rate Limit Error",
                                "message": " ".join(error.get("limit") or [])}
            response.set_data(json.dumps(payload))
    elif retry and response.status_code == 429:
        response.headers.setdefault("Retry-After", str(retry))
    return response


@statrequest_verify.route("/", methods=["GET", "POST"], strict_slashes=False)
def check() -> Any:
    """Anyone uploads a PDF and gets a verdict."""
    result, errors = _check(None) if tk.request.method == "POST" else (None, {})
    return tk.render("statrequest/verify/index.html",
                     {"result": result, "errors": errors, "letter": None, **_extra()}), _status()


@statrequest_verify.route("/<code>", methods=["GET", "POST"])
def letter(code: str) -> Any:
    """One letter's public facts, and a check of a file against it."""
    try:
        facts = tk.get_action("statrequest_verify")(context(), {"id": code})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Letter not found"))
    result, errors = _check(code) if tk.request.method == "POST" else (None, {})
    return tk.render("statrequest/verify/letter.html", {
        "letter": _display(facts["letter"]), "code": code, "result": result, "errors": errors,
        **_extra()}), _status()
