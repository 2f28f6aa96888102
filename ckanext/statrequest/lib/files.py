"""The request's files in CKAN 2.12's file API (`IFiles`).

Attachments are stored through CKAN's file storage with the request as owner (owner type
`statrequest_request`), so CKAN's own file actions (`file_show`, `file_owner_scan`, ...) reach
them too. They answer from the same visibility rule as the request pages:

- reading one file (`file_show`): whoever may see that attachment on the request page;
- listing all files of a request (`file_owner_scan`): Diskominfo only, who see every file;
- changing, deleting, moving files, or giving a file to a request: nobody through CKAN's file
  API (chained auth functions in `logic/auth/files.py` hold this for sysadmins too). Files
  join a request through its steps and leave it only through `statrequest_attachment_delete`;
- downloading: through the request's download address only, which records every opened
  identity document and tells browsers and proxies not to keep a copy.
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
from sqlalchemy import select

from ckanext.statrequest.lib import access, records
from ckanext.statrequest.model import Attachment, Request

OWNER_TYPE = "statrequest_request"


def is_ours(file: model.File | None) -> bool:
    owner = file.owner if file is not None else None
    return owner is not None and owner.owner_type == OWNER_TYPE


def file_allows(context: dict[str, Any], file: model.File, operation: str) -> bool | None:
    """IFiles.files_file_allows: None for files that are not ours (CKAN decides)."""
    if not is_ours(file):
        return None
    if operation != "show":
        return False
    row = model.Session.scalars(select(Attachment).where(Attachment.file_id == file.id)).first()
    request = records.row(Request, file.owner.owner_id if file.owner else None)
    if row is None or request is None or row.deleted_at is not None:
        return False
    return access.attachment_visible(row, access.view(access.context_actor(context), request))


def owner_allows(context: dict[str, Any], owner_type: str, owner_id: str, operation: str
                 ) -> bool | None:
    """IFiles.files_owner_allows: None for other owner types (CKAN decides)."""
    if owner_type != OWNER_TYPE:
        return None
    if operation != "file_scan":  # files join a request only through its steps
        return False
    request = records.row(Request, owner_id)
    # the list shows every file, identity documents and drafts included
    return request is not None and access.view(access.context_actor(context), request).internal
