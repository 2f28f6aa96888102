"""Backup and restore drill (#16): `ckan statrequest backup`, then `restore` into an EMPTY
database and storage, then the invariant checker, `restore-check` (every signed letter
verifies, every file's SHA-256 matches its record) and the consistency of dump and files.

The data is made through the actions (requests with their three documents, one walked to the
end with two paraf and the signature and delivered as its dataset, one still open). The backup
runs in this process; a request submitted while it runs (after its snapshot) must be neither
in the dump nor in the manifest. The restore runs as `ckan -c <ini>` in its own process, with
an ini that takes test.ini and points at a freshly created database and storage directory.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import ckan.model as model
import pytest
from sqlalchemy import select
from support import as_sysadmin, submit, walk

from ckanext.statrequest.commands.backup import MANIFEST, run_backup
from ckanext.statrequest.lib import delivery
from ckanext.statrequest.model import Attachment, Request

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MARK = "skalauji"  # bench/scale/checker.py checks the requests whose title carries it
pytestmark = pytest.mark.usefixtures("with_plugins", "test_pki")


def _pg() -> tuple[str, int]:
    url = urlparse(os.environ.get("CKAN_SQLALCHEMY_URL") or "postgresql://x@127.0.0.1:5432/x")
    return url.hostname or "127.0.0.1", url.port or 5432


def _psql(sql: str, db: str = "postgres") -> str:
    host, port = _pg()
    out = subprocess.run(["psql", "-h", host, "-p", str(port), "-U", "postgres", "-d", db,
                          "-v", "ON_ERROR_STOP=1", "-qtAc", sql],
                         capture_output=True, text=True, check=True, timeout=120)
    return out.stdout.strip()


@pytest.fixture
def empty_stack(tmp_path: Path) -> Any:
    """A fresh database and storage directory, and a CKAN ini pointing at them."""
    host, port = _pg()
    db = f"ckan_restore_{uuid.uuid4().hex[:8]}"
    _psql(f"CREATE DATABASE {db} OWNER ckan ENCODING 'UTF8'")
    storage = tmp_path / "restored-storage"
    ini = tmp_path / "restore.ini"
    ini.write_text(
        "[app:main]\n"
        f"use = config:{ROOT / 'test.ini'}\n"
        f"sqlalchemy.url = postgresql://ckan:ckan@{host}:{port}/{db}\n"
        f"ckan.storage_path = {storage}\n"
        f"ckan.files.storage.statrequest_test.path = {storage / 'files'}\n"
        f"ckanext.statrequest.signing.pki_dir = {ROOT / '.run' / 'test-pki'}\n")
    try:
        yield {"db": db, "ini": ini, "storage": storage}
    finally:
        _psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        shutil.rmtree(storage, ignore_errors=True)


OWN = ("CKAN_SQLALCHEMY_URL", "CKAN_STORAGE_PATH")  # the restored stack's are in its ini


def _ckan(ini: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in OWN}
    return subprocess.run([str(BIN / "ckan"), "-c", str(ini), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=600)


def _found(package_id: str) -> int:
    return as_sysadmin("package_search", q=f"id:{package_id}", include_private=True,
                       include_drafts=True)["count"]


def test_backup_restores_into_an_empty_stack_and_everything_verifies(office, empty_stack,
                                                                      tmp_path):
    finished = walk(office, submit(title=f"Data nakes {MARK} selesai")["id"], "tandatangani")
    package_id = delivery.deliver(finished)
    opened = submit("pemohon2", title=f"Data sekolah {MARK} terbuka")["id"]
    walk(office, opened, "tugaskan_staf")
    model.Session.remove()
    late: dict[str, str] = {}

    def write_during_backup() -> None:  # after the snapshot: must not be in the backup
        late["id"] = submit(title=f"Data terlambat {MARK}")["id"]
        model.Session.remove()

    target = tmp_path / "backup"
    manifest = run_backup(target, after_snapshot=write_during_backup)
    assert not manifest["missing"]
    assert (target / MANIFEST).exists() and (target / "database.dump").stat().st_size > 0
    assert "statrequest" in json.dumps(manifest["alembic"])
    late_files = set(model.Session.scalars(select(Attachment.file_id).where(
        Attachment.request_id == late["id"])))
    assert len(late_files) == 3  # stored in the live portal...
    listed = {e["id"] for e in manifest["files"]}
    assert not late_files & listed  # ...but written after the snapshot: not in the backup
    kinds = {a.kind for a in model.Session.scalars(select(Attachment).where(
        Attachment.request_id == finished))}
    assert {"signed_reply", "result", "identity_document"} <= kinds
    letter_file = model.Session.get(Attachment, model.Session.get(
        Request, finished).letter_attachment_id).file_id
    assert letter_file in listed
    assert sum(e["kind"] == "resource" for e in manifest["files"]) == 2  # letter + data
    model.Session.remove()
    # the restored stack shares this test's Solr core and site id: empty the index, and
    # leave in it a dataset the backup does not have, as after a lost database
    from ckan.lib import search
    from ckan.tests import factories

    search.clear_all()
    ghost = factories.Dataset()["id"]
    assert _found(package_id) == 0 and _found(ghost) == 1

    restored = _ckan(empty_stack["ini"], "statrequest", "restore", "--from", str(target))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "search index rebuilt" in restored.stdout
    assert _found(package_id) == 1  # the restored dataset is found again
    assert _found(ghost) == 0  # and the index holds nothing the backup does not
    db = empty_stack["db"]  # ids made by the portal (hex uuids), no quoting needed
    count = "SELECT count(*) FROM {} WHERE id IN ({})"
    assert _psql(count.format("statrequest_request", f"'{late['id']}'"), db) == "0"
    assert _psql(count.format("statrequest_request", f"'{finished}', '{opened}'"), db) == "2"
    assert _psql(count.format("package", f"'{package_id}'"), db) == "1"
    copied = [p for p in empty_stack["storage"].rglob("*") if p.is_file()]
    assert len(copied) == len(manifest["files"])

    check = _ckan(empty_stack["ini"], "statrequest", "restore-check", "--from", str(target))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "RESTORE CHECK OK" in check.stdout
    assert "letters 1" in check.stdout, check.stdout

    env = {k: v for k, v in os.environ.items() if k not in OWN}
    inv = subprocess.run([sys.executable, str(ROOT / "tests" / "ops" / "invariants.py"),
                          str(empty_stack["ini"])], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=False, timeout=600)
    assert inv.returncode == 0, inv.stderr[-3000:]
    result = json.loads(inv.stdout.strip().splitlines()[-1])
    assert result["ok"], "\n".join(result["lines"]) + json.dumps(result["checks"])[:3000]
    by_name = {c["name"]: c for c in result["checks"]}
    assert by_name["letters"]["checked"] == 1 and by_name["delivery"]["checked"] == 1
    assert by_name["files"]["checked"] >= 8  # 3 + 3 documents, the result, the letter...


def test_restore_refuses_a_damaged_backup_or_a_database_in_use(office, empty_stack, tmp_path):
    submit(title=f"Data {MARK}")
    model.Session.remove()
    target = tmp_path / "backup"
    manifest = run_backup(target)
    model.Session.remove()
    first = target / manifest["files"][0]["path"]
    first.write_bytes(first.read_bytes() + b"x")
    damaged = _ckan(empty_stack["ini"], "statrequest", "restore", "--from", str(target))
    assert damaged.returncode != 0 and "does not match its manifest" in damaged.stderr
    assert _psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                 empty_stack["db"]) == "0"  # nothing written
    # the live test database is not empty: a restore into it is refused
    env_ini = empty_stack["ini"]
    env_ini.write_text(env_ini.read_text().replace(
        f"/{empty_stack['db']}\n", f"/{urlparse(os.environ['CKAN_SQLALCHEMY_URL']).path[1:]}\n"))
    first.write_bytes(first.read_bytes()[:-1])
    busy = _ckan(env_ini, "statrequest", "restore", "--from", str(target))
    assert busy.returncode != 0 and "not empty" in busy.stderr
