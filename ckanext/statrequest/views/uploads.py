"""Files of the request forms (portal and front desk) kept across errors.

Each posted file is read once; when the action refuses the submission, every file that passed
its own checks is kept (`lib.kept`) under a token held in the user's session only, and shown
as "kept" on the form; a field left empty on the next submission is filled from what is kept.
A file chosen again replaces the kept one. Success, or opening the form afresh, forgets them.
"""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk
from flask import session

from ckanext.statrequest import settings
from ckanext.statrequest.lib import attachments, kept
from ckanext.statrequest.views.forms import FILE_FIELDS

SESSION_KEY = "statrequest_kept"  # {form name: token}


def _token(form: str) -> str | None:
    tokens = session.get(SESSION_KEY)
    token = tokens.get(form) if isinstance(tokens, dict) else None
    return token if isinstance(token, str) else None


def _set_token(form: str, token: str | None) -> None:
    tokens = session.get(SESSION_KEY)
    tokens = dict(tokens) if isinstance(tokens, dict) else {}
    if token is None:
        tokens.pop(form, None)
    else:
        tokens[form] = token
    session[SESSION_KEY] = tokens


def _owner() -> str:
    return str(tk.current_user.id) if tk.current_user.is_authenticated else ""


def with_kept(form: str, data: dict[str, Any]) -> dict[str, Any]:
    """The data dict with each posted file read into (name, bytes), and each file field left
    empty filled from this session's kept files."""
    limit = settings.max_file_size()
    token = _token(form)
    for name in FILE_FIELDS:
        value = data.get(name)
        if getattr(value, "filename", ""):
            data[name] = (value.filename, value.stream.read(limit + 1))
        elif token and (stored := kept.load(token, _owner(), name)) is not None:
            data[name] = stored
    return data


def keep_passing(form: str, data: dict[str, Any]) -> None:
    """After a refused submission: keep every file that passed its own checks; a file that
    did not takes the place of (removes) the one kept before."""
    good, bad = [], []
    for name in FILE_FIELDS:
        value = data.get(name)
        if not isinstance(value, tuple):
            continue
        try:
            good.append(attachments.prepare(name, value))
        except tk.ValidationError:
            bad.append(name)
    owner, token = _owner(), _token(form)
    if token is not None and not kept.mine(token, owner):
        token = None  # not this user's (another user's session left it): never used
    if token is None:
        if not good:
            return
        token = kept.new_token()
        _set_token(form, token)
    for name in bad:
        kept.drop(token, owner, name)
    for prepared in good:
        kept.keep(token, owner, prepared)


def shown(form: str) -> dict[str, dict[str, Any]]:
    """The files this session keeps for the form: {field: {"name", "size"}}."""
    return kept.listing(_token(form), _owner())


def forget(form: str) -> None:
    """Drop what this session keeps for the form (after success, or on a fresh form)."""
    token = _token(form)
    if token:
        kept.clear(token, _owner())
        _set_token(form, None)
