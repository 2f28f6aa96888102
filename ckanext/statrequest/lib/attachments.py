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
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ckan.model as model
import ckantoolkit as tk
import magic
from ckan.lib import files
from ckan.lib.munge import munge_filename
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from sqlalchemy import select

from ckanext.statrequest import settings
from ckanext.statrequest.model import Attachment

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
    "objection_decision": (PDF,),  # the signed decision on an objection (keberatan)
}
REQUESTER_KINDS = ("identity_document", "request_letter", "data_form")
PERSONAL_KINDS = ("identity_document",)
# The documents every submission carries (the portal form and the front desk alike); the
# option `require_data_form` adds the data request form: `required_kinds()`.
REQUIRED_KINDS = ("identity_document", "request_letter")


def required_kinds() -> tuple[str, ...]:
    """The requester documents a submission must carry, with this portal's configuration."""
    return REQUIRED_KINDS + (("data_form",) if tk.asbool(settings.get("require_data_form"))
                             else ())


PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
# An OOXML package declares its main part in [Content_Types].xml with this content type.
OOXML_MAIN = {
    OFFICE[0]: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    OFFICE[1]: "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}
ODF = (OFFICE[2], OFFICE[3])
PACKAGE_SUFFIX = {  # what a ZIP claims to be by its name
    ".xlsx": OFFICE[0], ".docx": OFFICE[1], ".pptx": PPTX, ".ods": OFFICE[2], ".odt": OFFICE[3],
}
# Reading a package is bounded: its entries are listed, never extracted, and only the small
# descriptor is decompressed (and at most this much of it, whatever its header claims).
MAX_ENTRIES = 10_000
MAX_DESCRIPTOR = 1024 * 1024


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


class NotAPackage(ValueError):
    """A ZIP that claims (by its name or its first bytes) to be an office document, but is not
    one of that kind."""

    def __init__(self, media_type: str) -> None:
        super().__init__(media_type)
        self.media_type = media_type


def sniff(name: str, content: bytes) -> str:
    """The media type of an upload, from its bytes; an office document (a ZIP package) is
    taken as one only when its inner structure is that of the kind it claims to be."""
    media_type = magic.from_buffer(content[:8192], mime=True)
    claimed = media_type if media_type in (*OOXML_MAIN, *ODF) else None
    if claimed is None and content[:2] == b"PK":
        claimed = next((t for s, t in PACKAGE_SUFFIX.items() if name.lower().endswith(s)), None)
    if claimed is not None:
        if not _is_package(content, claimed):
            raise NotAPackage(claimed)
        return claimed
    if media_type == "text/plain" and name.lower().endswith(".csv"):
        return "text/csv"
    return media_type


def _is_package(content: bytes, media_type: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
            if not entries or len(entries) > MAX_ENTRIES:
                return False
            if media_type in ODF:
                return _is_odf(archive, entries[0], media_type)
            return _is_ooxml(archive, media_type)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
            EOFError, OSError, ValueError, zlib.error):  # damaged, encrypted, exotic
        return False


def _is_odf(archive: zipfile.ZipFile, first: zipfile.ZipInfo, media_type: str) -> bool:
    """ODF: the first entry is `mimetype`, stored uncompressed, holding the document's type."""
    if (first.filename != "mimetype" or first.compress_type != zipfile.ZIP_STORED
            or first.header_offset != 0 or first.file_size > 100):
        return False
    with archive.open(first) as f:
        return f.read(101) == media_type.encode("ascii")


def _is_ooxml(archive: zipfile.ZipFile, media_type: str) -> bool:
    """OOXML: [Content_Types].xml declares a main part of this kind, and that part exists."""
    names = set(archive.namelist())
    if "[Content_Types].xml" not in names:
        return False
    with archive.open("[Content_Types].xml") as f:
        descriptor = f.read(MAX_DESCRIPTOR + 1)
    if len(descriptor) > MAX_DESCRIPTOR:
        return False
    try:  # defusedxml: no entity expansion, no external references
        root = ElementTree.fromstring(descriptor, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException):
        return False
    for element in root:
        if (element.tag.rsplit("}", 1)[-1] == "Override"
                and element.get("ContentType") == OOXML_MAIN[media_type]
                and (element.get("PartName") or "").lstrip("/") in names):
            return True
    return False


def prepare(kind: str, upload: Any, field: str | None = None) -> Prepared:
    """Check one upload; raise ValidationError naming the field, writing nothing."""
    field = field or kind
    if kind not in ALLOWED:
        raise tk.ValidationError({field: [_("Unknown kind of attachment.")]})
    limit = settings.max_file_size()
    name, content = _read(upload, limit)
    # every message names the file, in plain words (never a media type)
    shown = name.replace("\\", "/").split("/")[-1][:120] or _("The file")
    if not content:
        raise tk.ValidationError({field: [_("%(name)s: the file is empty.") % {"name": shown}]})
    if len(content) > limit:
        raise tk.ValidationError({field: [
            _("%(name)s: the file is larger than %(mb)s MB.")
            % {"name": shown, "mb": limit // (1024 * 1024)}]})
    try:
        media_type = sniff(name, content)
    except NotAPackage as exc:
        raise tk.ValidationError({field: [
            _("%(name)s is not a valid %(type)s file: its content does not have the structure "
              "of one. Save it again from the office program, or upload it as PDF.")
            % {"name": shown, "type": _short(exc.media_type)}]}) from None
    if media_type not in ALLOWED[kind]:
        raise tk.ValidationError({field: [
            _("%(name)s: this type of file is not accepted; use %(allowed)s.")
            % {"name": shown, "allowed": accepted(kind)}]})
    safe = munge_filename(name.replace("\\", "/").split("/")[-1]) or f"{kind}.bin"
    return Prepared(kind, safe[:120], content, media_type, hashlib.sha256(content).hexdigest())


def accepted(kind: str) -> str:
    """The kinds of file accepted for `kind`, in words: "PDF, JPEG or PNG"."""
    names = list(dict.fromkeys(_short(t) for t in ALLOWED[kind]))
    if len(names) == 1:
        return names[0]
    return _("%(some)s or %(last)s") % {"some": ", ".join(names[:-1]), "last": names[-1]}


def _short(media_type: str) -> str:
    return {PDF: "PDF", JPEG: "JPEG", PNG: "PNG", OFFICE[0]: "XLSX", OFFICE[1]: "DOCX",
            OFFICE[2]: "ODS", OFFICE[3]: "ODT", PPTX: "PPTX", "text/csv": "CSV", "text/plain": "TXT",
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


def accel_redirect(attachment_id: str) -> str | None:
    """The internal address nginx serves this attachment's file from (download.accel_redirect),
    or None: option off, file gone, or not a local file under the attachment storage's folder
    (an object store, another storage), which the portal then streams itself. Call only after
    the access check."""
    import os
    from urllib.parse import quote

    from file_keeper.default.adapters.fs import FsStorage

    if not settings.get("download.accel_redirect"):
        return None
    row = model.Session.get(Attachment, attachment_id)
    fileobj = model.Session.get(model.File, row.file_id) if row and row.file_id else None
    # the nginx location maps to one folder: the configured attachment storage's
    if fileobj is None or fileobj.storage != settings.file_storage():
        return None
    storage = files.get_storage(fileobj.storage)
    if not isinstance(storage, FsStorage):
        return None
    root = os.path.realpath(storage.settings.path)
    try:
        path = storage.full_path(fileobj.location)
    except files.exc.FilesError:  # a symlink leaving the folder
        return None
    relative = os.path.relpath(path, root)
    if relative.startswith("..") or not os.path.isfile(path):
        return None
    prefix = str(settings.get("download.accel_prefix") or "/_statrequest_files/")
    return prefix.rstrip("/") + "/" + quote(relative.replace(os.sep, "/"))


def remove(file_id: str) -> None:
    fileobj = model.Session.get(model.File, file_id)
    if fileobj is None:
        return
    storage = files.get_storage(fileobj.storage)
    storage.remove(files.FileData.from_object(fileobj))
    model.Session.delete(fileobj)


def results(request_id: str) -> list[Attachment]:
    """The data files the OPD answered with (the letter lists them, the delivery publishes
    them), oldest first."""
    return list(model.Session.scalars(
        select(Attachment).where(Attachment.request_id == request_id,
                                 Attachment.kind == "result", Attachment.deleted_at.is_(None),
                                 Attachment.file_id.is_not(None))
        .order_by(Attachment.created_at, Attachment.id)))
