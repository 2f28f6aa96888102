"""CKAN's file API on the request's files: no change and no download around the request.

`IFiles` (see `ckanext.statrequest.files`) decides reading and listing. These chained auth
functions hold what IFiles cannot: CKAN asks IFiles only after a sysadmin has already been
let through, so deleting, renaming, pinning or moving a request's file, or giving a file to a
request, is refused here to everyone, sysadmins included. Downloads of a request's files go
through the request's own download address, which checks the same rule, records every
opened identity document and forbids caching; CKAN's `/file/download/<id>` does neither.
For every other file CKAN's answer is kept unchanged (`pass_on`).
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckantoolkit as tk

from ckanext.statrequest.lib import files
from ckanext.statrequest.logic.auth.delivery import Auth, Result, chained, pass_on

_ = tk._

__all__ = [
    "file_delete",
    "file_rename",
    "file_pin",
    "file_unpin",
    "file_ownership_transfer",
    "permission_download_file",
]


def _file(data_dict: dict[str, Any]) -> model.File | None:
    ref = str(data_dict.get("id") or "")
    # PostgreSQL refuses NUL in a text literal: such an id names no file
    return model.Session.get(model.File, ref) if 0 < len(ref) <= 100 and "\x00" not in ref else None


def _unchanged(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    if files.is_ours(_file(data_dict)):
        return {"success": False, "msg": _(
            "This file belongs to a data request and can only change through the request.")}
    return pass_on(next_auth, context, data_dict)


@chained
def file_delete(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return _unchanged(next_auth, context, data_dict)


@chained
def file_rename(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return _unchanged(next_auth, context, data_dict)


@chained
def file_pin(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return _unchanged(next_auth, context, data_dict)


@chained
def file_unpin(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    return _unchanged(next_auth, context, data_dict)


@chained
def file_ownership_transfer(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]
                            ) -> Result:
    if data_dict.get("owner_type") == files.OWNER_TYPE:
        return {"success": False, "msg": _("Files join a data request only through its steps.")}
    return _unchanged(next_auth, context, data_dict)


@chained
def permission_download_file(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]
                             ) -> Result:
    if files.is_ours(_file(data_dict)):
        return {"success": False, "msg": _("Download this file from the page of its data request.")}
    return pass_on(next_auth, context, data_dict)
