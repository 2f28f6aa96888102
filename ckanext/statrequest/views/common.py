"""What every page shares: who is asking, asking the auth functions, calling actions, the page
number, errors shown beside the fields, and code lists in the reader's language.

Pages never decide rights themselves: they ask an auth function (`allow`, `may`) or call an
action, which asks its own. A refusal becomes a 403 page; an anonymous visitor is asked to log
in first.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import ckantoolkit as tk
from flask import session
from flask_wtf import FlaskForm

from ckanext.statrequest.logic.validators import MAX_PAGE, query_int

_ = tk._

PAGE_SIZE = 20  # rows of a paged list

Errors = dict[str, list[str]]


def user() -> str:
    """The name of the logged-in user, or "" for a visitor (CKAN's anonymous caller)."""
    return tk.current_user.name if tk.current_user.is_authenticated else ""


def context() -> dict[str, Any]:
    """The action context of the current user."""
    return {"user": user()}


def refuse(exc: tk.NotAuthorized) -> NoReturn:
    """The 403 page of a refusal; a visitor who is not logged in is asked to log in."""
    if not tk.current_user.is_authenticated:
        tk.abort(403, _("Please log in first."))
    tk.abort(403, str(exc) or _("You may not see this page."))


# where a visitor sent to log in goes afterwards, also when they register instead (CKAN's
# registration forgets `came_from`); read once by the page after login (views/landing.py)
CAME_FROM = "statrequest_came_from"


def login_to_continue(message: str) -> Any:
    """CKAN's login page for a visitor, with `message` and the way back to this page."""
    here = tk.h.url_for(tk.request.endpoint, **(tk.request.view_args or {}),
                        **tk.request.args.to_dict())
    session[CAME_FROM] = here
    tk.h.flash_notice(message)
    return tk.redirect_to("user.login", came_from=here)


def allow(auth: str, data: dict[str, Any] | None = None) -> None:
    """Ask the auth function `auth` whether the current user may; if not, a 403 page."""
    try:
        tk.check_access(auth, context(), data or {})
    except tk.NotAuthorized as exc:
        refuse(exc)


def may(auth: str, data: dict[str, Any] | None = None) -> bool:
    """Whether the auth function `auth` lets the current user in (to choose what to show)."""
    try:
        tk.check_access(auth, context(), data or {})
    except tk.NotAuthorized:
        return False
    return True


def call(action: str, not_found: str | None = None, **data: Any) -> Any:
    """Run an action as the current user; a refusal is a 403 page, something unknown a 404
    page saying `not_found` (by default: the request)."""
    try:
        return tk.get_action(action)(context(), data)
    except tk.NotAuthorized as exc:
        refuse(exc)
    except tk.ObjectNotFound:
        tk.abort(404, not_found or _("Request not found"))


def submit(action: str, data: dict[str, Any]) -> tuple[Any, Errors]:
    """Run an action with what a form posted: its result, or the errors to show beside the
    fields when the action's schema refused a value (then nothing changed)."""
    from ckanext.statrequest.lib.objectstore import StorageUnavailable
    from ckanext.statrequest.views import storage_unavailable_message

    try:
        return tk.get_action(action)(context(), data), {}
    except tk.ValidationError as exc:
        return None, field_errors(exc)
    except StorageUnavailable:  # nothing kept; the form keeps what was typed and the good files
        import ckan.model as model

        model.Session.rollback()  # whatever the action had not rolled back itself
        return None, {"storage": [storage_unavailable_message()]}


def field_errors(exc: tk.ValidationError) -> Errors:
    """The errors of a refused value, per field, as lists of messages."""
    return {k: v if isinstance(v, list) else [str(v)]
            for k, v in (exc.error_dict or {}).items()}


def form_errors(form: FlaskForm) -> Errors:
    """The errors of a form that did not validate (in practice: its CSRF token)."""
    return {k: list(v) for k, v in form.errors.items()}


def page_number() -> int:
    """The `page` of a paged list: 1 unless the address names a sane one."""
    return query_int(tk.request.args, "page", 1, 1, MAX_PAGE)


def paging(page: int) -> dict[str, int]:
    """The `limit` and `offset` of a list action for that page."""
    return {"limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}


def labels(codes: Mapping[str, str]) -> dict[str, str]:
    """A code list of `core.vocabulary` with its labels in the reader's language."""
    return {code: _(label) for code, label in codes.items()}
