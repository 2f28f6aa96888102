"""An OPD answering with a dataset already on the portal (`or_dataset: true` in the YAML).

At the answer, each uploaded resource of the dataset is copied into the request as a result
file of that OPD (the bytes read from CKAN's resource storage, checked like an upload, hashed):
from there on it is exactly like uploaded data: the reply letter lists it with its SHA-256 and
the delivery puts it in the requester's restricted dataset. A resource that is only a link
cannot be copied: it is recorded as `tautan` (name and address) on the step's event and named on
the letter with the dataset (title, address of its page).
"""
from __future__ import annotations

import io
import logging
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from werkzeug.datastructures import FileStorage

from ckanext.statrequest import settings
from ckanext.statrequest.lib import attachments

log = logging.getLogger(__name__)
LINK = "tautan"


def _resource_bytes(resource: dict[str, Any]) -> bytes:
    from ckan.lib import files, uploader

    upload = uploader.get_resource_uploader(dict(resource))
    path = upload.get_path(resource["id"])
    storage = getattr(upload, "storage", None)
    if storage is not None:  # CKAN's file storage (ckan.files.*)
        location = files.Location(path)
        data = files.FileData(location, size=storage.size(location))
        return b"".join(storage.stream(data))
    with open(path, "rb") as handle:
        return handle.read()


def dataset_url(package: model.Package) -> str:
    return f"{settings.site_url()}/dataset/{package.name}"


def copy(package_id: str, user_name: str | None
         ) -> tuple[list[attachments.Prepared], dict[str, Any]]:
    """The dataset's uploaded resources as checked result files, and what the event and the
    letter record of it: {id, name, title, url, resources: [{name, sha256 | url, kind}]}.
    Only a dataset the answering user may read (a private dataset of another organisation
    must not reach a requester through a request)."""
    package = model.Package.get(package_id)
    refused = tk.ValidationError({"dataset": [tk._("Dataset not found: %(ref)s") % {
        "ref": package_id}]})
    if package is None or package.state != "active":
        raise refused
    try:
        tk.check_access("package_show", {"user": user_name}, {"id": package.id})
    except tk.NotAuthorized:
        raise refused from None
    prepared: list[attachments.Prepared] = []
    listed: list[dict[str, Any]] = []
    for res in package.resources:  # active resources, in the dataset's order
        resource = {"id": res.id, "url": res.url, "url_type": res.url_type}
        name = res.name or (res.url or "").rsplit("/", 1)[-1] or res.id
        if res.url_type == "upload":
            try:
                content = _resource_bytes(resource)
            except Exception:
                log.exception("resource %s of dataset %s cannot be read", res.id, package.name)
                raise tk.ValidationError({"dataset": [tk._(
                    "A file of this dataset cannot be read; upload the data instead.")]}) from None
            filename = (res.url or "").rsplit("/", 1)[-1] or name
            item = attachments.prepare("result", FileStorage(io.BytesIO(content), filename),
                                       field="dataset")
            prepared.append(item)
            listed.append({"name": item.name, "sha256": item.sha256, "kind": "file"})
        else:
            listed.append({"name": name, "url": res.url or "", "kind": LINK})
    return prepared, {"id": package.id, "name": package.name, "title": package.title or package.name,
                      "url": dataset_url(package), "resources": listed}
