"""Auth of delivery datasets and of the public letter verification.

A delivery dataset (see `ckanext.statrequest.delivery`) is read by exactly those whose
permission labels match it, whatever else would grant access (dataset collaborators, another
plugin's chained function); search applies the same labels in Solr. Only a sysadmin (which
includes the delivery job) may change one: it is the record of what was sent. For every other
dataset the chained functions answer exactly what CKAN would (`pass_on`).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.model as model
import ckantoolkit as tk

from ckanext.statrequest import settings
from ckanext.statrequest.lib import access, delivery
from ckanext.statrequest.model import Request

_ = tk._

__all__ = [
    "statrequest_verify",
    "statrequest_publish_consent",
    "statrequest_publish_open",
    "package_show",
    "resource_show",
    "resource_view_show",
    "resource_view_list",
    "package_update",
    "package_delete",
    "package_owner_org_update",
    "package_collaborator_create",
    "resource_create",
    "resource_update",
    "resource_delete",
    "bulk_update_public",
]

Result = dict[str, Any]
Auth = Callable[[dict[str, Any], dict[str, Any]], Result]


@tk.auth_allow_anonymous_access
def statrequest_verify(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    """Everyone may check a letter (DESIGN.md §6, last row)."""
    return {"success": True}


def _publishable(data_dict: dict[str, Any]) -> Request | None:
    """The request, if it ended with data delivered (fulfilled or partly)."""
    ref = str(data_dict.get("id") or "")
    request = model.Session.get(Request, ref) if 0 < len(ref) <= 64 else None
    if request is None or request.state not in settings.workflow().final or \
            request.outcome not in ("dipenuhi", "dipenuhi_sebagian"):
        return None
    return request


@tk.auth_sysadmins_check  # the requester's own decision: nobody gives it for them
def statrequest_publish_consent(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    """Only the requester may agree, once the data was delivered."""
    request = _publishable(data_dict)
    user = _user(context)
    if request is not None and user is not None and request.requester_id == user.id:
        return {"success": True}
    return {"success": False, "msg": _("Only the requester may agree to publishing the data.")}


@tk.auth_sysadmins_check  # the OPD's own decision, not the portal administrator's
def statrequest_publish_open(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    """Only an admin of the OPD the request was routed to (the OPD's own decision)."""
    import ckan.authz as authz

    request = _publishable(data_dict)
    user = _user(context)
    org_id = str(data_dict.get("organization") or "")
    if request is not None and user is not None and \
            org_id in access.routed_org_ids(request.id) and \
            authz.users_role_for_group_or_org(org_id, user.name) == "admin":
        return {"success": True}
    return {"success": False, "msg": _(
        "Only an admin of the agency that provided the data may publish it.")}


def _user(context: dict[str, Any]) -> model.User | None:
    user = context.get("auth_user_obj")
    if isinstance(user, model.User):
        return user
    return model.User.get(context.get("user") or "") if context.get("user") else None


def _package(ref: Any) -> model.Package | None:
    return model.Package.get(str(ref)) if ref else None


def _resource_package(ref: Any) -> model.Package | None:
    resource = model.Resource.get(str(ref)) if ref else None
    return model.Package.get(resource.package_id) if resource is not None else None


def _view_package(ref: Any) -> model.Package | None:
    view = model.ResourceView.get(str(ref)) if ref else None
    return _resource_package(view.resource_id) if view is not None else None


def pass_on(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    """Exactly what CKAN would answer without our link in the chain.

    CKAN keeps only the outermost function's flags on a chain of auth functions, so ours
    let every caller in (`chained`) and the flags of the next function are applied here:
    sysadmins pass unless it checks them too, anonymous callers are refused unless it
    allows them (core's `package_update` does, for `ckan.auth.anon_create_dataset`).
    """
    user = _user(context)
    if user is not None and user.sysadmin and \
            not getattr(next_auth, "auth_sysadmins_check", False):
        return {"success": True}
    if not getattr(next_auth, "auth_allow_anonymous_access", False) and \
            not context.get("auth_user_obj"):
        return {"success": False, "msg": _("Please log in first.")}
    return next_auth(context, data_dict)


def chained(func: Callable[..., Result]) -> Callable[..., Result]:
    """A chained auth function that sees every caller; see `pass_on`."""
    return tk.chained_auth_function(
        tk.auth_allow_anonymous_access(tk.auth_sysadmins_check(func)))


def _read(pkg: model.Package | None, next_auth: Auth, context: dict[str, Any],
          data_dict: dict[str, Any]) -> Result:
    if delivery.request_of(pkg) is None:
        return pass_on(next_auth, context, data_dict)
    assert pkg is not None
    if delivery.may_read(_user(context), pkg):
        return {"success": True}
    return {"success": False, "msg": _("You may not see this dataset.")}


def _write(pkg: model.Package | None, next_auth: Auth, context: dict[str, Any],
           data_dict: dict[str, Any]) -> Result:
    if delivery.request_of(pkg) is None:
        return pass_on(next_auth, context, data_dict)
    user = _user(context)
    if user is not None and user.sysadmin:  # a repair by the portal administrator
        return {"success": True}
    return {"success": False, "msg": _(
        "This dataset is the record of a delivered data request and cannot be changed.")}


# --- reading: package, resources, views (downloads and activity lists call these) ----------

@chained
def package_show(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return _read(_package(data_dict.get("id")), next_auth, context, data_dict)


@chained
def resource_show(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return _read(_resource_package(data_dict.get("id")), next_auth, context, data_dict)


@chained
def resource_view_show(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]
                       ) -> Result:
    return _read(_view_package(data_dict.get("id")), next_auth, context, data_dict)


@chained
def resource_view_list(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]
                       ) -> Result:
    return _read(_resource_package(data_dict.get("id")), next_auth, context, data_dict)


# --- changing: only sysadmins ---------------------------------------------------------------

@chained
def package_update(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return _write(_package(data_dict.get("id")), next_auth, context, data_dict)


@chained
def package_delete(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return _write(_package(data_dict.get("id")), next_auth, context, data_dict)


@chained
def package_owner_org_update(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]
                             ) -> Result:
    return _write(_package(data_dict.get("id")), next_auth, context, data_dict)


@chained
def package_collaborator_create(next_auth: Auth, context: dict[str, Any],
                                data_dict: dict[str, Any]) -> Result:
    return _write(_package(data_dict.get("id")), next_auth, context, data_dict)


@chained
def resource_create(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return _write(_package(data_dict.get("package_id")), next_auth, context, data_dict)


@chained
def resource_update(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return _write(_resource_package(data_dict.get("id")), next_auth, context, data_dict)


@chained
def resource_delete(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return _write(_resource_package(data_dict.get("id")), next_auth, context, data_dict)


@chained
def bulk_update_public(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]
                       ) -> Result:
    datasets = data_dict.get("datasets") or []
    for ref in datasets if isinstance(datasets, list) else []:
        if delivery.request_of(_package(ref)) is not None:
            return _write(_package(ref), next_auth, context, data_dict)
    return pass_on(next_auth, context, data_dict)
