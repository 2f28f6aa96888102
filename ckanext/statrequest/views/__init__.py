"""Flask blueprints of the extension, one module per area; CKAN collects `__all__`.

Every blueprint also gets the guards of the whole extension, so that no page has to
remember them:

- refusals of the action layer become clear error pages: an invalid value 400, something
  unknown 404, something not allowed 403 (never a 500);
- a path or query value no page could use (a NUL character, thousands of characters) is
  refused before any view runs;
- every POST of a logged-in browser session must carry the CSRF token of its form.
  CKAN 2.12.0 stops checking a view for *everybody* once one anonymous or API-token request
  reached it, so the extension checks its own views itself.
"""
from __future__ import annotations

import importlib
import logging
import pkgutil
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from flask import Blueprint, current_app, g, jsonify, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    HTTPException,
    NotFound,
    ServiceUnavailable,
)

log = logging.getLogger(__name__)
_ = tk._

__all__: list[str] = []

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_ARG_LENGTH = 2000  # longest query or path value a page accepts (search text is 200)


SERVED = "ckanext.statrequest.served"


def mark_served() -> None:
    """Flag a request the app really serves; `test_request_context()` (used to render mails
    in jobs and commands, amid their own transaction) runs no before-request function."""
    request.environ[SERVED] = True


def release_session(_exc: BaseException | None = None) -> None:
    """Teardown of every served request: roll back what is left and give the connection
    back, even when the view or the error page failed."""
    if not request.environ.get(SERVED):
        return
    try:
        model.Session.rollback()
    except Exception:  # a dead connection: removing the session below discards it
        log.warning("rollback at the end of a request failed", exc_info=True)
    finally:
        model.Session.remove()


def _error_page(exc: HTTPException) -> Any:
    """CKAN's own error page for this status, with our message."""
    return current_app.handle_http_exception(exc)


RETRY_AFTER = "30"  # seconds; an outage of the object store is usually short


def storage_unavailable_message() -> str:
    return _("File storage is temporarily unavailable. Nothing was saved; please try again "
             "in a few minutes.")


def storage_unavailable(_exc: Exception) -> Any:
    """App-wide handler of `objectstore.StorageUnavailable` (the object store is down): 503
    with Retry-After, as JSON for the API and as CKAN's error page otherwise. The action's
    transaction was rolled back, so nothing of the call is kept."""
    message = storage_unavailable_message()
    if request.path.startswith("/api/"):
        response = jsonify({"success": False, "error": {
            "__type": "Service Unavailable", "message": message}})
        response.status_code = 503
    else:
        response = current_app.make_response(_error_page(ServiceUnavailable(message)))
        response.status_code = 503
    response.headers["Retry-After"] = RETRY_AFTER
    return response


def storage_unavailable_api(response: Any) -> Any:
    """After-request hook: CKAN's API view answers any unknown exception with a bare 500; when
    the object store was the cause (flagged by `StorageUnavailable`), answer 503 instead."""
    if response.status_code == 500 and g.get("statrequest_storage_unavailable") \
            and request.path.startswith("/api/"):
        return storage_unavailable(RuntimeError("object store unavailable"))
    return response


def _invalid(exc: tk.ValidationError) -> Any:
    summary = exc.error_summary if isinstance(exc.error_dict, dict) else {}
    details = "; ".join(f"{field}: {message}" for field, message in summary.items())
    return _error_page(BadRequest(
        _("The request contains an invalid value: %(details)s") % {"details": details}
        if details else _("The request contains an invalid value.")))


def _not_found(exc: tk.ObjectNotFound) -> Any:
    return _error_page(NotFound(str(exc) or _("Not found")))


def _not_authorized(exc: tk.NotAuthorized) -> Any:
    if not tk.current_user.is_authenticated:
        return _error_page(Forbidden(_("Please log in first.")))
    return _error_page(Forbidden(str(exc) or _("You may not see this page.")))


def _sane_arguments() -> None:
    """Refuse path and query values no page could use, before they reach the database
    (PostgreSQL cannot even compare a text holding a NUL character)."""
    values = list((request.view_args or {}).values())
    values += [v for key in request.args for v in request.args.getlist(key)]
    for value in values:
        if isinstance(value, str) and ("\x00" in value or len(value) > MAX_ARG_LENGTH):
            tk.abort(400, _("The address contains a value that is not allowed."))


def _csrf_protect() -> None:
    """A POST from a logged-in browser session needs the token of the form it came from."""
    if request.method not in WRITE_METHODS or not current_app.config.get("WTF_CSRF_ENABLED"):
        return
    # API tokens are sent in a header a foreign site cannot set; anonymous callers have no
    # session a foreign site could ride on (CKAN flags both cases the same way)
    if g.get("login_via_auth_header") or not tk.current_user.is_authenticated:
        return
    if g.get("csrf_valid"):  # Flask-WTF's global check ran and passed
        return
    protect = current_app.extensions.get("csrf") or CSRFProtect()
    try:
        protect.protect()
    except CSRFError:
        tk.abort(400, _("This form has expired or did not come from this site. Please go "
                        "back, reload the page and try again."))


def _guard(blueprint: Blueprint) -> None:
    blueprint.before_request(_sane_arguments)
    blueprint.before_request(_csrf_protect)
    blueprint.register_error_handler(tk.ValidationError, _invalid)
    blueprint.register_error_handler(tk.ObjectNotFound, _not_found)
    blueprint.register_error_handler(tk.NotAuthorized, _not_authorized)


for _info in pkgutil.iter_modules(__path__):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name, _value in vars(_module).items():
        if isinstance(_value, Blueprint) and _value.name not in __all__:
            _guard(_value)
            globals()[_value.name] = _value
            __all__.append(_value.name)
