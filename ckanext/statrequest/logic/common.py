"""What the actions and auth functions of every feature share: checking a call against its
schema, the calling user's account, the answers of auth functions, the request a call names,
and the answer when somebody else changed a request first.

Shared with the rest of the package, one layer down: who calls is
`ckanext.statrequest.lib.access.context_actor`, a row by a reference (with its length and NUL
guard) `ckanext.statrequest.lib.records.row` / `find_request`, and the current time
`ckanext.statrequest.model.now` (UTC).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import ckan.model as model
import ckantoolkit as tk

from ckanext.statrequest.lib import access, records
from ckanext.statrequest.model import Request

_ = tk._

T = TypeVar("T")
Result = dict[str, Any]  # what an auth function answers


def validate(data_dict: dict[str, Any], schema: dict[str, Any], context: dict[str, Any]
             ) -> dict[str, Any]:
    """The call's data converted by `schema`; every problem at once as a ValidationError."""
    data, errors = tk.navl_validate(data_dict, schema, context)
    if errors:
        raise tk.ValidationError(errors)
    return data


def authorized(action: str, context: dict[str, Any], data_dict: dict[str, Any],
               schema: dict[str, Any]) -> dict[str, Any]:
    """The start of an action on the service as a whole: `action`'s auth function lets the
    caller in, then the call is checked against `schema` (an outsider learns nothing of it)."""
    context.pop(access.KEPT, None)  # the auth function's findings are this call's only
    tk.check_access(action, context, data_dict)
    return validate(data_dict, schema, context)


def target(action: str, context: dict[str, Any], data_dict: dict[str, Any],
           schema: dict[str, Any], find: Callable[[str], T], passed: Iterable[str] = ()
           ) -> tuple[dict[str, Any], T]:
    """The start of an action on one object: the call checked against `schema`, the object
    its ``id`` names (`find` raises ObjectNotFound), then `action`'s auth function asked
    about that object by its id (with the call's fields named in `passed`, e.g. a guest's
    token)."""
    data = validate(data_dict, schema, context)
    found = find(data["id"])
    context.pop(access.KEPT, None)  # the auth function's findings are this call's only
    tk.check_access(action, context, {"id": found.id, **{k: data.get(k) for k in passed}})
    return data, found


def user(context: dict[str, Any]) -> model.User | None:
    """The calling user's account as CKAN has it (any state), for rules written on
    `model.User` (dataset labels, organisation roles); None for an anonymous call."""
    found = context.get("auth_user_obj")
    if isinstance(found, model.User):
        return found
    name = context.get("user")
    return model.User.get(name) if name else None


def ok() -> Result:
    return {"success": True}


def refused(msg: str) -> Result:
    return {"success": False, "msg": msg}


@tk.auth_allow_anonymous_access
def everyone(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    """The auth function of what is public: anyone may call it, anonymous callers too."""
    return ok()


def administrator_only(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    """The auth function of the portal administrator's settings (positions, holidays,
    signing credentials)."""
    if access.context_actor(context).can_administer:
        return ok()
    return refused(_("Only the portal administrator may do this."))


def official_or_administrator(who: access.Actor) -> bool:
    """Diskominfo officials (position holders, sysadmins) and the portal administrator."""
    return who.is_staff or who.can_administer


def get_request(ref: Any) -> Request:
    """A request by id or tracking number (`records.find_request`); an unknown or malformed
    reference is simply not found."""
    request = records.find_request(ref)
    if request is None:
        raise tk.ObjectNotFound(_("Request not found"))
    return request


def stale_version() -> tk.ValidationError:
    """The answer when the request changed since the caller saw it: nothing was written."""
    return tk.ValidationError({"version": [_(
        "This request was already handled by someone else. Reload the page.")]})
