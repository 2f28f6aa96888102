"""Attachment files: checked by their bytes, stored through CKAN 2.12's file API.

Everything is checked before anything is written, and a file already written to storage is
removed again when the database transaction that records it fails, so bad input leaves
neither rows nor files behind.
"""
from __future__ import annotations

import hashlib
import io
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ckan.model as model
import ckantoolkit as tk
import magic
from ckan.lib import files
from ckan.lib.munge import munge_filename

from ckanext.statrequest import settings

log = logging.getLogger(__name__)
_ = tk._

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
OFFICE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.text",
)
DATA = ("text/csv", "text/plain", "application/json", "application/zip", *OFFICE)

# What each kind of attachment may be, decided by the bytes (never by the name).
ALLOWED: dict[str, tuple[str, ...]] = {
    "identity_document": (PDF, JPEG, PNG),
    "request_letter": (PDF, JPEG, PNG),
    "data_form": (PDF, JPEG, PNG, *OFFICE),
    "result": (PDF, *DATA),
    "draft_reply": (PDF,),
    "signed_reply": (PDF,),
}
REQUESTER_KINDS = ("identity_document", "request_letter", "data_form")
PERSONAL_KINDS = ("identity_document",)
OFFICE_ZIP_HINT = {  # libmagic may call an OOXML/ODF package a plain zip
    ".xlsx": OFFICE[0], ".docx": OFFICE[1], ".ods": OFFICE[2], ".odt": OFFICE[3],
}


@dataclass(frozen=True)
class Prepared:
    """A checked upload, ready to be stored."""

    kind: str
    name: str
    content: bytes
    media_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def _read(upload: Any, limit: int) -> tuple[str, bytes]:
    """Name and bytes of an upload (werkzeug FileStorage, file object or (name, bytes))."""
    if isinstance(upload, tuple) and len(upload) == 2:
        name, data = upload
        return str(name), bytes(data)[: limit + 1]
    name = getattr(upload, "filename", None) or getattr(upload, "name", None) or ""
    stream = getattr(upload, "stream", upload)
    if not hasattr(stream, "read"):
        raise tk.ValidationError({"upload": [_("Not a file upload.")]})
    return str(name), stream.read(limit + 1)


def sniff(name: str, content: bytes) -> str:
    media_type = magic.from_buffer(content[:8192], mime=True)
    if media_type in ("application/zip", "application/octet-stream"):
        for suffix, office_type in OFFICE_ZIP_HINT.items():
            if name.lower().endswith(suffix) and content[:2] == b"PK":
                return office_type
    if media_type == "text/plain" and name.lower().endswith(".csv"):
        return "text/csv"
    return media_type


def prepare(kind: str, upload: Any, field: str | None = None) -> Prepared:
    """Check one upload; raise ValidationError naming the field, writing nothing."""
    field = field or kind
    if kind not in ALLOWED:
        raise tk.ValidationError({field: [_("Unknown kind of attachment.")]})
    limit = settings.max_file_size()
    name, content = _read(upload, limit)
    if not content:
        raise tk.ValidationError({field: [_("The file is empty.")]})
    if len(content) > limit:
        raise tk.ValidationError({field: [
            _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}]})
    media_type = sniff(name, content)
    if media_type not in ALLOWED[kind]:
        raise tk.ValidationError({field: [
            _("This file type is not accepted here (%(type)s). Accepted: %(allowed)s.")
            % {"type": media_type, "allowed": ", ".join(_short(t) for t in ALLOWED[kind])}]})
    safe = munge_filename(name.replace("\\", "/").split("/")[-1]) or f"{kind}.bin"
    return Prepared(kind, safe[:120], content, media_type, hashlib.sha256(content).hexdigest())


def _short(media_type: str) -> str:
    return {PDF: "PDF", JPEG: "JPEG", PNG: "PNG", OFFICE[0]: "XLSX", OFFICE[1]: "DOCX",
            OFFICE[2]: "ODS", OFFICE[3]: "ODT", "text/csv": "CSV", "text/plain": "TXT",
            "application/json": "JSON", "application/zip": "ZIP"}.get(media_type, media_type)


class Written:
    """Files written during one unit of work; `discard()` removes them after a rollback."""

    def __init__(self) -> None:
        self.file_ids: list[str] = []

    def discard(self) -> None:
        for file_id in self.file_ids:
            fileobj = model.Session.get(model.File, file_id)
            try:
                if fileobj is not None:
                    files.get_storage(fileobj.storage).remove(files.FileData.from_object(fileobj))
            except Exception:  # the rollback must go on; the orphan is logged for cleanup
                log.exception("could not remove orphaned attachment file %s", file_id)
        self.file_ids.clear()


def store(prepared: Prepared, request_id: str, written: Written, user_name: str | None) -> str:
    """Write the bytes to CKAN's file storage (owner: the request); return the file id.

    The database rows are left to the caller's transaction (defer_commit).
    """
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    context = {"user": site_user, "ignore_auth": True, "defer_commit": True}
    result = tk.get_action("file_create")(context, {
        "name": f"{uuid.uuid4().hex}-{prepared.name}",
        "storage": settings.file_storage(),
        "upload": io.BytesIO(prepared.content),
    })
    written.file_ids.append(result["id"])
    model.Session.flush()
    # file_create made the (site) user the owner; the request owns its files
    owner = model.Session.get(model.FileOwner, result["id"])
    if owner is None:
        owner = model.FileOwner(file_id=result["id"])
        model.Session.add(owner)
    owner.owner_id, owner.owner_type = request_id, "statrequest_request"
    return result["id"]


def read(file_id: str) -> Iterator[bytes]:
    fileobj = model.Session.get(model.File, file_id)
    if fileobj is None:
        raise tk.ObjectNotFound(_("File not found"))
    storage = files.get_storage(fileobj.storage)
    return storage.stream(files.FileData.from_object(fileobj))


def remove(file_id: str) -> None:
    fileobj = model.Session.get(model.File, file_id)
    if fileobj is None:
        return
    storage = files.get_storage(fileobj.storage)
    storage.remove(files.FileData.from_object(fileobj))
    model.Session.delete(fileobj)
