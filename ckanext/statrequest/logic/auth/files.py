"""CKAN's file API on the request's files: no change and no download around the request.

`IFiles` (see `ckanext.statrequest.lib.files`) decides reading and listing. These chained auth
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

from ckanext.statrequest.lib import files, records
from ckanext.statrequest.logic import common
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


MAX_FILE_ID = 100  # CKAN's file ids


def _file(data_dict: dict[str, Any]) -> model.File | None:
    return records.row(model.File, data_dict.get("id"), MAX_FILE_ID)


@chained
def _unchanged(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]) -> Result:
    """A request's file changes only through the request; any other file as CKAN decides."""
    if files.is_ours(_file(data_dict)):
        return common.refused(_(
            "This file belongs to a data request and can only change through the request."))
    return pass_on(next_auth, context, data_dict)


file_delete = _unchanged
file_rename = _unchanged
file_pin = _unchanged
file_unpin = _unchanged


@chained
def file_ownership_transfer(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]
                            ) -> Result:
    if data_dict.get("owner_type") == files.OWNER_TYPE:
        return common.refused(_("Files join a data request only through its steps."))
    return _unchanged(next_auth, context, data_dict)


@chained
def permission_download_file(next_auth: Auth, context: dict[str, Any], data_dict: dict[str, Any]
                             ) -> Result:
    if files.is_ours(_file(data_dict)):
        return common.refused(_("Download this file from the page of its data request."))
    return pass_on(next_auth, context, data_dict)
