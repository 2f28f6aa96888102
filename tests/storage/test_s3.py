"""Files on S3 object storage: a real SeaweedFS (`weed server -s3`, dev/seaweedfs.sh) as the
portal's CKAN file storage through file-keeper's `file_keeper:s3` adapter.

The storage is configured exactly as a deployment configures it (README, "Object storage"):
`ckan.files.storage.<name>.type = file_keeper:s3` and `ckan.files.default_storages.default =
<name>`, so that the request's attachments, its letters and the resources of the delivered
dataset (CKAN's resource storage, derived from the default one) all land in the bucket. What
is stored is read back with boto3 straight from the bucket, not through the portal.

The server is built once into .run/bin/weed by `dev/seaweedfs.sh build` (`.ci/run` and
`dev/services.sh install` do it); the tests skip only when it is missing and cannot be built.
"""
from __future__ import annotations

import hashlib
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import ckan.model as model
import ckantoolkit as tk
import pytest
from ckan.lib import files
from support import (
    RESULT_CSV,
    act,
    as_sysadmin,
    finished_request,
    request_files,
    submit,
    upload,
    walk,
)

from ckanext.statrequest.lib import delivery
from ckanext.statrequest.model import Attachment
from storage.seaweed import ACCESS_KEY, SCRIPT, SECRET_KEY, WEED, base_port

STORAGE = "statrequest_s3"

pytestmark = pytest.mark.usefixtures("with_plugins", "test_pki")


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory) -> Iterator[str]:
    """A SeaweedFS server of the session's own; its S3 endpoint."""
    if not WEED.exists():
        built = subprocess.run(["bash", str(SCRIPT), "build"], capture_output=True, text=True)
        if built.returncode != 0 or not WEED.exists():
            pytest.skip("SeaweedFS is not built and could not be built (needs Go): "
                        f"{built.stderr.strip()[-300:]}")
    workdir = tmp_path_factory.mktemp("seaweedfs")
    base = base_port()
    subprocess.run(["bash", str(SCRIPT), "start", str(workdir), str(base)], check=True,
                   timeout=120)
    try:
        yield f"http://127.0.0.1:{base + 3}"
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", str(workdir)], timeout=60)


@pytest.fixture
def s3(seaweedfs, ckan_config, monkeypatch) -> Iterator[dict[str, Any]]:
    """CKAN configured with the object store as its default file storage (a fresh bucket)."""
    import boto3

    bucket = f"statrequest-{uuid.uuid4().hex[:12]}"
    options = {"type": "file_keeper:s3", "bucket": bucket, "endpoint": seaweedfs,
               "key": ACCESS_KEY, "secret": SECRET_KEY, "region": "us-east-1",
               "path": "portal", "initialize": "true"}
    for key, value in options.items():
        monkeypatch.setitem(ckan_config, f"ckan.files.storage.{STORAGE}.{key}", value)
    monkeypatch.setitem(ckan_config, "ckan.files.default_storages.default", STORAGE)
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.file_storage", STORAGE)
    files.storages.reset()
    files.storages.collect()
    client = boto3.client("s3", endpoint_url=seaweedfs, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name="us-east-1")
    try:
        yield {"bucket": bucket, "client": client}
    finally:
        monkeypatch.undo()
        files.storages.reset()
        files.storages.collect()


def _objects(s3: dict[str, Any]) -> dict[str, bytes]:
    """Every object in the bucket, by key, with its bytes (read with boto3)."""
    client, bucket = s3["client"], s3["bucket"]
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            out[item["Key"]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return out


def _digests(objects: dict[str, bytes]) -> dict[str, str]:
    return {hashlib.sha256(data).hexdigest(): key for key, data in objects.items()}


def test_the_storage_is_the_s3_adapter(s3):
    storage = files.get_storage(STORAGE)
    assert type(storage).__module__.startswith("file_keeper.default.adapters.s3")
    # CKAN's resource storage (the delivered datasets) is derived from the default one
    resources = files.get_storage(tk.config["ckan.files.default_storages.resource"])
    assert type(resources) is type(storage)


def test_an_attachment_is_stored_in_the_bucket_and_downloads_byte_for_byte(s3, office, app):
    sent = {name: item.stream.getvalue() for name, item in request_files().items()}
    rid = submit()["id"]
    model.Session.remove()
    rows = model.Session.query(Attachment).filter_by(request_id=rid).all()
    assert len(rows) == len(sent)
    by_digest = _digests(_objects(s3))
    assert {hashlib.sha256(b).hexdigest() for b in sent.values()} <= set(by_digest)
    for row in rows:
        assert row.sha256 in by_digest, f"{row.kind} is not in the bucket"
        fileobj = model.Session.get(model.File, row.file_id)
        assert fileobj.storage == STORAGE
        assert by_digest[row.sha256] == f"portal/{fileobj.location}"
    # the request's download address streams each object back, byte for byte
    app.set_session_user("sekretaris")
    for row in rows:
        got = app.get(f"/permintaan-data/berkas/{row.id}")
        assert got.status_code == 200
        assert hashlib.sha256(got.data).hexdigest() == row.sha256
    # and so does the action called from Python (the delivery job reads this way)
    streamed = b"".join(act("pemohon1", "statrequest_attachment_download",
                            id=rows[0].id)["stream"])
    assert hashlib.sha256(streamed).hexdigest() == rows[0].sha256


def test_a_result_uploaded_on_a_step_is_stored_in_the_bucket(s3, office):
    rid = walk(office, submit()["id"], "teruskan_ke_opd")
    admin = office.opd["dinas-kesehatan"]["admin"]
    data = RESULT_CSV + b"Sukadana,2,7\n"
    row = act(admin, "statrequest_attachment_create", id=rid, kind="result",
              upload=upload("hasil.csv", data))
    assert row["sha256"] == hashlib.sha256(data).hexdigest()
    assert _objects(s3)[_digests(_objects(s3))[row["sha256"]]] == data


def test_letters_and_the_delivered_dataset_are_stored_in_the_bucket(s3, office):
    rid = finished_request(office)
    model.Session.remove()
    rows = model.Session.query(Attachment).filter_by(request_id=rid).all()
    signed = [r for r in rows if r.kind == "signed_reply"]
    assert len(signed) == 1
    objects = _objects(s3)
    digests = _digests(objects)
    # every file of the request, the signed letter and its drafts included, is in the bucket
    for row in rows:
        if row.file_id:
            assert row.sha256 in digests, f"{row.kind} is not in the bucket"
    assert objects[digests[signed[0].sha256]].startswith(b"%PDF")
    # delivery: CKAN's resource upload of the letter and the data, also into the bucket
    package_id = delivery.deliver(rid)
    model.Session.remove()
    pkg = as_sysadmin("package_show", id=package_id)
    after = _objects(s3)
    resource_keys = {k for k in after if k.startswith("portal/resources/")}
    assert len(resource_keys) == len(pkg["resources"]) == 2
    for res in pkg["resources"]:
        key = f"portal/resources/{res['id'][:3]}/{res['id'][3:6]}/{res['id'][6:]}"
        assert hashlib.sha256(after[key]).hexdigest() == res["hash"]
    assert hashlib.sha256(RESULT_CSV).hexdigest() in {r["hash"] for r in pkg["resources"]}
