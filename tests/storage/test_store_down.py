"""The object store down (#16): processes still start, a file operation is a clear 503 and
writes nothing, and everything works again once the store is back.

A real SeaweedFS of this module's own (dev/seaweedfs.sh) that the tests stop and start; CKAN's
default file storage is the extension's `statrequest:s3` adapter on it (lib/objectstore.py).
file-keeper's own `file_keeper:s3` adapter is shown failing in the same situation, so the
first test proves something.
"""
from __future__ import annotations

import hashlib
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ckan.model as model
import ckantoolkit as tk
import pytest
from ckan.lib import files
from support import act, as_sysadmin, pdf_bytes, png_bytes, request_data, submit

from ckanext.statrequest.lib import objectstore
from ckanext.statrequest.model import Attachment, Event, Request
from storage.seaweed import ACCESS_KEY, SCRIPT, SECRET_KEY, WEED, base_port

STORAGE = "statrequest_s3down"

pytestmark = pytest.mark.usefixtures("with_plugins", "test_pki")


class Weed:
    def __init__(self, workdir: Path, base: int) -> None:
        self.workdir, self.base = workdir, base
        self.endpoint = f"http://127.0.0.1:{base + 3}"

    def start(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "start", str(self.workdir), str(self.base)],
                       check=True, timeout=120, capture_output=True)

    def stop(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "stop", str(self.workdir)], timeout=60,
                       capture_output=True)


@pytest.fixture(scope="module")
def weed(tmp_path_factory) -> Iterator[Weed]:
    if not WEED.exists():
        built = subprocess.run(["bash", str(SCRIPT), "build"], capture_output=True, text=True)
        if built.returncode != 0 or not WEED.exists():
            pytest.skip("SeaweedFS is not built and could not be built (needs Go)")
    server = Weed(tmp_path_factory.mktemp("seaweedfs-down"), base_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _configure(ckan_config: Any, monkeypatch: Any, endpoint: str, bucket: str,
               adapter: str = objectstore.ADAPTER) -> None:
    options = {"type": adapter, "bucket": bucket, "endpoint": endpoint, "key": ACCESS_KEY,
               "secret": SECRET_KEY, "region": "us-east-1", "path": "portal",
               "initialize": "true"}
    for key, value in options.items():
        monkeypatch.setitem(ckan_config, f"ckan.files.storage.{STORAGE}.{key}", value)
    monkeypatch.setitem(ckan_config, "ckan.files.default_storages.default", STORAGE)
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.file_storage", STORAGE)


def _forget(ckan_config: Any) -> None:
    """Remove the defaults CKAN's config declaration added for the test storage when an app
    was made (a storage without a type would fail the next configuration check)."""
    for key in [k for k in ckan_config if k.startswith(f"ckan.files.storage.{STORAGE}.")]:
        del ckan_config[key]


def _boot() -> None:
    """What CKAN does with the storages when a process loads its environment."""
    files.storages.reset()
    files.storages.collect()


@pytest.fixture
def down(weed, ckan_config, monkeypatch) -> Iterator[dict[str, Any]]:
    """The store stopped; CKAN configured on it with a bucket that does not exist yet."""
    weed.stop()
    bucket = f"down-{uuid.uuid4().hex[:12]}"
    _configure(ckan_config, monkeypatch, weed.endpoint, bucket)
    try:
        yield {"bucket": bucket, "weed": weed}
    finally:
        weed.start()
        monkeypatch.undo()
        _forget(ckan_config)
        _boot()


def _counts() -> tuple[int, int, int, int]:
    model.Session.remove()
    return (model.Session.query(Request).count(), model.Session.query(Event).count(),
            model.Session.query(Attachment).count(), model.Session.query(model.File).count())


def _objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name="us-east-1")
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            out[item["Key"]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return out


def _api_files() -> dict[str, Any]:
    import io

    return {"identity_document": (io.BytesIO(png_bytes()), "ktp.png"),
            "request_letter": (io.BytesIO(pdf_bytes()), "surat.pdf"),
            "data_form": (io.BytesIO(pdf_bytes("Formulir")), "formulir.pdf")}


def test_file_keepers_adapter_kills_the_boot_ours_does_not(weed, ckan_config, monkeypatch):
    weed.stop()
    try:
        _configure(ckan_config, monkeypatch, weed.endpoint, "boot-check", "file_keeper:s3")
        with pytest.raises(Exception, match="(?i)connect"):
            _boot()
        _configure(ckan_config, monkeypatch, weed.endpoint, "boot-check")
        _boot()  # starts: nothing is asked of the store yet
        storage = files.get_storage(STORAGE)
        assert isinstance(storage, objectstore.Storage)
        # CKAN's resource storage is derived from the default one: lenient too
        resources = files.get_storage(tk.config["ckan.files.default_storages.resource"])
        assert isinstance(resources, objectstore.Storage)
        with pytest.raises(objectstore.StorageUnavailable):
            storage.upload(files.Location("x.txt"), files.make_upload(b"x"))
    finally:
        weed.start()
        monkeypatch.undo()
        _forget(ckan_config)
        _boot()


def test_flags_are_booleans_and_scan_works_without_a_path(weed, ckan_config, monkeypatch):
    bucket = f"flags-{uuid.uuid4().hex[:12]}"
    settings = {"type": objectstore.ADAPTER, "bucket": bucket, "endpoint": weed.endpoint,
                "key": ACCESS_KEY, "secret": SECRET_KEY, "region": "us-east-1"}
    # `initialize = false` from an ini is the string "false": no bucket may be created
    strict = files.make_storage("strict", {**settings, "initialize": "false"})
    assert strict.settings.initialize is False
    with pytest.raises(files.exc.InvalidStorageConfigurationError):
        strict.upload(files.Location("a.txt"), files.make_upload(b"a"))
    lenient = files.make_storage("lenient", {**settings, "initialize": "true"})
    lenient.upload(files.Location("a.txt"), files.make_upload(b"a"))
    lenient.upload(files.Location("b.txt"), files.make_upload(b"bb"))
    assert sorted(lenient.scan()) == ["a.txt", "b.txt"]  # file-keeper: ValueError
    assert lenient.exists(files.FileData(files.Location("a.txt")))
    assert not lenient.exists(files.FileData(files.Location("c.txt")))


def test_submit_while_the_store_is_down_writes_nothing_then_works(down, office, app):
    _boot()  # a process starting while the store is down
    before = _counts()
    # the action: a clear exception, the transaction rolled back
    with pytest.raises(objectstore.StorageUnavailable):
        submit()
    assert _counts() == before
    # the API: 503 with a message in the user's words, nothing written
    token = as_sysadmin("api_token_create", user="pemohon1", name="store-down")["token"]
    data = {k: v for k, v in request_data().items() if k not in _api_files()}
    data["consent_personal_data"] = "true"
    got = app.post("/api/action/statrequest_create", data={**data, **_api_files()},
                   headers={"Authorization": token}, status=503)
    assert got.headers["Retry-After"] == "30"
    body = got.json
    assert body["success"] is False
    assert "sementara tidak tersedia" in body["error"]["message"]
    assert _counts() == before
    # the form: the problem at the top of the form, what was typed kept, nothing written
    app.set_session_user("pemohon1")
    form = {"requester_name": "Dewi Lestari", "identity_type": "nik",
            "identity_number": "6104012345678901", "category": "masyarakat_umum",
            "email": "dewi@example.test", "title": "Jumlah puskesmas per kecamatan 2025",
            "description": "Data puskesmas per kecamatan.", "purpose": "Penelitian",
            "consent_personal_data": "y", **_api_files()}
    page = app.post("/permintaan-data/baru", data=form, follow_redirects=False)
    assert page.status_code == 200
    assert 'id="form-errors"' in page.body and "sementara tidak tersedia" in page.body
    assert "Jumlah puskesmas per kecamatan 2025" in page.body
    assert _counts() == before

    # the store is back: the same process submits, the files are in the bucket
    down["weed"].start()
    sent = {k: hashlib.sha256(v[0].getvalue()).hexdigest() for k, v in _api_files().items()}
    got = app.post("/api/action/statrequest_create", data={**data, **_api_files()},
                   headers={"Authorization": token}, status=200)
    rid = got.json["result"]["id"]
    requests, events, attachments, stored = _counts()
    assert (requests, events) == (before[0] + 1, before[1] + 1)
    assert attachments == before[2] + 3
    rows = model.Session.query(Attachment).filter_by(request_id=rid).all()
    assert {r.sha256 for r in rows} == set(sent.values())
    in_bucket = {hashlib.sha256(b).hexdigest()
                 for b in _objects(down["weed"].endpoint, down["bucket"]).values()}
    assert set(sent.values()) <= in_bucket
    # and the download of a stored file streams it back through the adapter
    streamed = b"".join(act("pemohon1", "statrequest_attachment_download",
                            id=rows[0].id)["stream"])
    assert hashlib.sha256(streamed).hexdigest() == rows[0].sha256

    # the store goes away again: the download page is a 503 page in the user's words
    down["weed"].stop()
    app.set_session_user("sekretaris")
    page = app.get(f"/permintaan-data/berkas/{rows[0].id}", status=503)
    assert page.headers["Retry-After"] == "30"
    assert "sementara tidak tersedia" in page.body
