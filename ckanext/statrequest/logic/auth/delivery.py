"""Auth of delivery datasets and of the public letter verification (its own actions'
names: `logic.api.ACTIONS["delivery"]`; ``__all__`` lists the CKAN auth functions it chains).

A delivery dataset (see `ckanext.statrequest.lib.delivery`) is read by exactly those whose
permission labels match it, whatever else would grant access (dataset collaborators, another
plugin's chained function); search applies the same labels in Solr. Only a sysadmin (which
includes the delivery job) may change one: it is the record of what was sent. For every other
dataset the chained functions answer exactly what CKAN would (`pass_on`).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.authz as authz
import ckan.model as model
import ckantoolkit as tk

from ckanext.statrequest import settings
from ckanext.statrequest.core.vocabulary import OUTCOMES_WITH_DATA
from ckanext.statrequest.lib import access, delivery, records
from ckanext.statrequest.logic import common
from ckanext.statrequest.model import Request

_ = tk._

__all__ = [
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

Result = common.Result
Auth = Callable[[dict[str, Any], dict[str, Any]], Result]

# everyone may check a letter: the verification page is the target of the letter's QR code
statrequest_verify = common.everyone


def _publishable(data_dict: dict[str, Any]) -> Request | None:
    """The request, if it ended with data delivered (fulfilled or partly)."""
    request = records.row(Request, data_dict.get("id"))
    if request is None or request.state not in settings.workflow().final or \
            request.outcome not in OUTCOMES_WITH_DATA:
        return None
    return request


@tk.auth_sysadmins_check  # the requester's own decision: nobody gives it for them
def statrequest_publish_consent(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    """Only the requester may agree, once the data was delivered."""
    request = _publishable(data_dict)
    user = common.user(context)
    if request is not None and user is not None and request.requester_id == user.id:
        return common.ok()
    return common.refused(_("Only the requester may agree to publishing the data."))


@tk.auth_sysadmins_check  # the OPD's own decision, not the portal administrator's
def statrequest_publish_open(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    """An admin of the OPD the request was routed to (the OPD's own decision), or Diskominfo
    staff on its behalf — as staff upload the data of an OPD without portal accounts."""
    request = _publishable(data_dict)
    user = common.user(context)
    org_id = str(data_dict.get("organization") or "")
    if request is not None and user is not None and org_id in access.routed_org_ids(request.id) \
            and (authz.users_role_for_group_or_org(org_id, user.name) == "admin"
                 or settings.workflow().assignee_position in access.context_actor(context).positions):
        return common.ok()
    return common.refused(_("Only an admin of the agency that provided the data, or the staff "
                            "handling the request, may publish it."))


def statrequest_publication_show(context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    """Whoever may see the request sees where its open publication stands."""
    request = records.row(Request, data_dict.get("id"))
    if request is not None and access.view(access.context_actor(context), request).summary:
        return common.ok()
    return common.refused(_("You may not see this request."))


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
    user = common.user(context)
    if user is not None and user.sysadmin and \
            not getattr(next_auth, "auth_sysadmins_check", False):
        return common.ok()
    if not getattr(next_auth, "auth_allow_anonymous_access", False) and \
            not context.get("auth_user_obj"):
        return common.refused(_("Please log in first."))
    return next_auth(context, data_dict)


def chained(func: Callable[..., Result]) -> Callable[..., Result]:
    """A chained auth function that sees every caller; see `pass_on`."""
    return tk.chained_auth_function(
        tk.auth_allow_anonymous_access(tk.auth_sysadmins_check(func)))


def _read(pkg: model.Package, context: dict[str, Any]) -> Result:
    if delivery.may_read(common.user(context), pkg):
        return common.ok()
    return common.refused(_("You may not see this dataset."))


def _write(pkg: model.Package, context: dict[str, Any]) -> Result:
    user = common.user(context)
    if user is not None and user.sysadmin:  # a repair by the portal administrator
        return common.ok()
    return common.refused(_(
        "This dataset is the record of a delivered data request and cannot be changed."))


def _guard(decide: Callable[[model.Package, dict[str, Any]], Result],
           find: Callable[[Any], model.Package | None], key: str = "id") -> Auth:
    """A chained auth function for the dataset that `find` finds from the call's `key`:
    `decide` answers for a delivery dataset, CKAN for any other."""

    @chained
    def auth(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
        pkg = find(data_dict.get(key))
        if pkg is None or delivery.request_of(pkg) is None:
            return pass_on(next_auth, context, data_dict)
        return decide(pkg, context)

    return auth


# --- reading: package, resources, views (downloads and activity lists call these) ----------

package_show = _guard(_read, _package)
resource_show = _guard(_read, _resource_package)
resource_view_show = _guard(_read, _view_package)
resource_view_list = _guard(_read, _resource_package)

# --- changing: only sysadmins ---------------------------------------------------------------

package_update = _guard(_write, _package)
package_delete = _guard(_write, _package)
package_owner_org_update = _guard(_write, _package)
package_collaborator_create = _guard(_write, _package)
resource_create = _guard(_write, _package, key="package_id")
resource_update = _guard(_write, _resource_package)
resource_delete = _guard(_write, _resource_package)


@chained
def bulk_update_public(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]
                       ) -> Result:
    datasets = data_dict.get("datasets") or []
    for ref in datasets if isinstance(datasets, list) else []:
        pkg = _package(ref)
        if pkg is not None and delivery.request_of(pkg) is not None:
            return _write(pkg, context)
    return pass_on(next_auth, context, data_dict)
