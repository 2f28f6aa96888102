"""`ckan statrequest backup | restore | restore-check`: a consistent copy of the portal.

A backup is a directory:

    manifest.json     snapshot time, database name, alembic revisions, one entry per stored file
                      (storage, location, size, SHA-256, what it belongs to)
    database.dump     `pg_dump --format=custom` of the CKAN database
    files/<n>         the bytes of entry n of the manifest

Database and files agree with each other: the backup opens a REPEATABLE READ transaction,
exports its snapshot (`pg_export_snapshot()`), runs `pg_dump --snapshot=<it>` and lists the
files to copy inside that same snapshot. A file recorded after the snapshot is neither in the
dump nor in the manifest; a file of the snapshot is copied even if it was deleted from its row
in the meantime, unless its bytes are already gone, which the backup reports and fails on.

Files are read and written through CKAN 2.12's file storages (`ckan.lib.files`), so the same
commands work for a local directory and an object store: attachments, signed letters and
every file row of CKAN's `file` table, plus the uploaded resources of the delivered datasets
(which CKAN keeps without a file row).

`restore --from DIR` loads the dump into the (empty) database of the configuration, writes
every file back to its storage at its location and rebuilds CKAN's search index (Solr) from
the restored datasets: the index is not in the backup, and one left from before the loss would
list datasets the backup does not have. The requests themselves are searched in PostgreSQL,
so there is no index of ours to rebuild. `restore-check` then proves the copy: every
file's bytes match its record, every signed letter verifies, every delivered resource matches
its hash, and the alembic revisions are those of the backup.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ckantoolkit as tk
import click

MANIFEST = "manifest.json"
DUMP = "database.dump"
FORMAT = 1


def _libpq_url() -> str:
    from sqlalchemy.engine import make_url

    url = make_url(tk.config["sqlalchemy.url"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _resource_storage() -> str:
    return tk.config.get("ckan.files.default_storages.resource") or "resource"


def _resource_location(resource_id: str) -> str:
    return f"{resource_id[0:3]}/{resource_id[3:6]}/{resource_id[6:]}"


def _revisions(cursor: Any) -> dict[str, list[str]]:
    cursor.execute("SELECT table_name FROM information_schema.tables "
                   "WHERE table_schema = 'public' AND table_name LIKE '%%alembic_version'")
    out = {}
    for (table,) in sorted(cursor.fetchall()):
        cursor.execute(f'SELECT version_num FROM "{table}" ORDER BY 1')  # noqa: S608 - catalog name
        out[table] = [row[0] for row in cursor.fetchall()]
    return out


def _stored_files(cursor: Any) -> list[dict[str, Any]]:
    """What the snapshot says is stored: CKAN's file rows and the uploaded resources."""
    cursor.execute('SELECT id, storage, location, size FROM "file" ORDER BY id')
    entries = [{"kind": "file", "id": fid, "storage": storage, "location": location,
                "recorded_size": size} for fid, storage, location, size in cursor.fetchall()]
    cursor.execute("SELECT id FROM resource WHERE url_type = 'upload' AND state = 'active' "
                   "ORDER BY id")
    storage = _resource_storage()
    entries += [{"kind": "resource", "id": rid, "storage": storage,
                 "location": _resource_location(rid)} for (rid,) in cursor.fetchall()]
    return entries


def _read(storage: str, location: str) -> bytes:
    from ckan.lib import files

    data = files.FileData(files.Location(location))
    return b"".join(files.get_storage(storage).stream(data))


def run_backup(target: Path, after_snapshot: Callable[[], None] | None = None
               ) -> dict[str, Any]:
    """Write a backup to `target` (must not exist or be empty); return the manifest.

    `after_snapshot` is called once the snapshot is taken and before anything is copied (the
    tests use it to write while the backup runs)."""
    import ckan.model as model

    if target.exists() and any(target.iterdir()):
        raise click.ClickException(f"{target} is not empty")
    (target / "files").mkdir(parents=True, exist_ok=True)
    raw = model.meta.engine.raw_connection()
    # a connection of its own: the read-only session below must not go back to the pool, where
    # the next writer of this process (a test, a command) would find it read-only
    raw.detach()
    try:
        raw.set_session(isolation_level="REPEATABLE READ", readonly=True)
        cursor = raw.cursor()
        cursor.execute("SELECT pg_export_snapshot(), now(), current_database()")
        snapshot, taken_at, database = cursor.fetchone()
        if after_snapshot is not None:
            after_snapshot()
        dump = subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
             f"--snapshot={snapshot}", f"--file={target / DUMP}", f"--dbname={_libpq_url()}"],
            capture_output=True, text=True, check=False)
        if dump.returncode != 0:
            raise click.ClickException(f"pg_dump failed: {dump.stderr.strip()}")
        revisions = _revisions(cursor)
        entries = _stored_files(cursor)
    finally:
        raw.rollback()
        raw.close()
    missing = []
    for n, entry in enumerate(entries):
        try:
            content = _read(entry["storage"], entry["location"])
        except Exception as exc:  # noqa: BLE001 - every unreadable file is reported
            missing.append(f"{entry['kind']} {entry['id']} ({entry['storage']}:"
                           f"{entry['location']}): {exc.__class__.__name__}")
            continue
        entry.update(path=f"files/{n}", size=len(content),
                     sha256=hashlib.sha256(content).hexdigest())
        (target / entry["path"]).write_bytes(content)
    manifest = {
        "format": FORMAT, "database": database, "snapshot": snapshot,
        "snapshot_time": taken_at.astimezone(dt.timezone.utc).isoformat(),
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "dump": {"path": DUMP, "sha256": _sha256_file(target / DUMP)},
        "alembic": revisions, "files": [e for e in entries if "sha256" in e],
        "missing": missing,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"no readable {MANIFEST} in {source}: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise click.ClickException(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def run_restore(source: Path) -> dict[str, Any]:
    """Load the backup at `source` into this configuration's empty database and storages."""
    import ckan.model as model
    from ckan.lib import files
    from sqlalchemy import text

    manifest = load_manifest(source)
    if _sha256_file(source / DUMP) != manifest["dump"]["sha256"]:
        raise click.ClickException("the database dump does not match its manifest")
    for entry in manifest["files"]:  # every copy is checked before anything is written
        if _sha256_file(source / entry["path"]) != entry["sha256"]:
            raise click.ClickException(f"{entry['path']} does not match its manifest")
    with model.meta.engine.connect() as conn:
        tables = conn.execute(text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar()
    model.meta.engine.dispose()
    if tables:
        raise click.ClickException(
            f"the database of this configuration is not empty ({tables} tables): restore "
            "goes into a freshly created database only")
    loaded = subprocess.run(
        ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
         f"--dbname={_libpq_url()}", str(source / DUMP)],
        capture_output=True, text=True, check=False)
    if loaded.returncode != 0:
        raise click.ClickException(f"pg_restore failed: {loaded.stderr.strip()}")
    written = 0
    for entry in manifest["files"]:
        storage = files.get_storage(entry["storage"])
        with (source / entry["path"]).open("rb") as fh:
            content = fh.read()
        result = storage.upload(files.Location(entry["location"]),
                                files.make_upload(io.BytesIO(content)))
        if result.location != entry["location"]:
            raise click.ClickException(f"{entry['path']} was stored at {result.location}, "
                                       f"not at {entry['location']}")
        written += 1
    return {"files": written, "alembic": manifest["alembic"]}


def rebuild_search_index() -> int:
    """Index every restored dataset again, after clearing what Solr holds for this site (a
    dataset made after the backup must not stay findable); returns how many were indexed."""
    import ckan.model as model
    from ckan.lib import search

    search.rebuild(defer_commit=True, quiet=True, clear=True)
    search.commit()
    count = model.Session.query(model.Package.id).count()
    model.Session.remove()
    return int(count)


def run_check(source: Path | None) -> list[str]:
    """The restored portal's promises; returns the failures (empty: all good)."""
    import ckan.model as model
    from sqlalchemy import select

    from ckanext.statrequest.documents.verify import verify_pdf
    from ckanext.statrequest.logic.action.delivery import trust_roots
    from ckanext.statrequest.model import Attachment, Request

    failures: list[str] = []
    counts = {"attachments": 0, "letters": 0, "resources": 0, "manifest_files": 0}
    session = model.Session
    by_file: dict[str, bytes] = {}
    for row in session.scalars(select(Attachment).where(Attachment.deleted_at.is_(None),
                                                        Attachment.file_id.isnot(None))):
        counts["attachments"] += 1
        f = session.get(model.File, row.file_id)
        if f is None:
            failures.append(f"attachment {row.id} ({row.kind}): its file row is missing")
            continue
        try:
            content = _read(f.storage, f.location)
        except Exception as exc:  # noqa: BLE001
            failures.append(f"attachment {row.id} ({row.kind}): unreadable ({exc})")
            continue
        by_file[row.id] = content
        if hashlib.sha256(content).hexdigest() != row.sha256 or len(content) != row.size:
            failures.append(f"attachment {row.id} ({row.kind}): bytes differ from its record")
    roots = trust_roots()
    for request in session.scalars(select(Request).where(Request.letter_attachment_id.isnot(None))):
        letter = session.get(Attachment, request.letter_attachment_id)
        if letter is None or letter.kind != "signed_reply":
            continue
        counts["letters"] += 1
        content = by_file.get(letter.id)
        if content is None:
            failures.append(f"{request.tracking_number}: signed letter unreadable")
            continue
        verdict = verify_pdf(content, roots)
        if verdict.status != "valid":
            failures.append(f"{request.tracking_number}: signed letter is {verdict.status} "
                            f"{list(verdict.reasons)}")
    for res in session.scalars(select(model.Resource).where(
            model.Resource.url_type == "upload", model.Resource.state == "active")):
        counts["resources"] += 1
        try:
            content = _read(_resource_storage(), _resource_location(res.id))
        except Exception as exc:  # noqa: BLE001
            failures.append(f"resource {res.id}: unreadable ({exc})")
            continue
        if len(res.hash or "") == 64 and hashlib.sha256(content).hexdigest() != res.hash:
            failures.append(f"resource {res.id}: bytes differ from its hash")
    if source is not None:
        manifest = load_manifest(source)
        for entry in manifest["files"]:
            counts["manifest_files"] += 1
            try:
                content = _read(entry["storage"], entry["location"])
            except Exception as exc:  # noqa: BLE001
                failures.append(f"{entry['storage']}:{entry['location']}: missing ({exc})")
                continue
            if hashlib.sha256(content).hexdigest() != entry["sha256"]:
                failures.append(f"{entry['storage']}:{entry['location']}: differs from backup")
        raw = model.meta.engine.raw_connection()
        try:
            revisions = _revisions(raw.cursor())
        finally:
            raw.close()
        if revisions != manifest["alembic"]:
            failures.append(f"alembic revisions {revisions} differ from the backup's "
                            f"{manifest['alembic']}")
    session.remove()
    click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))
    return failures


@click.command("backup", short_help="Consistent backup: database dump + stored files.")
@click.option("--to", "target", required=True, type=click.Path(file_okay=False, path_type=Path))
def backup(target: Path) -> None:
    """Dump the CKAN database (pg_dump, custom format) and copy every stored file, both from
    one database snapshot, with a manifest (SHA-256 per file, snapshot time, alembic
    revisions) into the directory TARGET."""
    manifest = run_backup(target)
    click.echo(f"backup of {manifest['database']} at {manifest['snapshot_time']}: "
               f"{len(manifest['files'])} files -> {target}")
    for line in manifest["missing"]:
        click.echo(f"MISSING {line}", err=True)
    if manifest["missing"]:
        sys.exit(1)


@click.command("restore", short_help="Restore a backup into an empty database and storage.")
@click.option("--from", "source", required=True,
              type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--no-search-index", is_flag=True,
              help="Do not rebuild the search index (run `ckan search-index rebuild` later).")
def restore(source: Path, no_search_index: bool) -> None:
    """Load the backup in SOURCE into the (freshly created, empty) database of this
    configuration, write its files back to their storages and rebuild the search index of
    the datasets. Then run `ckan statrequest restore-check`."""
    result = run_restore(source)
    click.echo(f"restored {result['files']} files; alembic {result['alembic']}")
    later = ("the search index still lists what it held before: run `ckan search-index "
             "rebuild` (with this configuration) before opening the portal")
    if no_search_index:
        click.echo(f"NOT REBUILT: {later}", err=True)
        return
    try:
        indexed = rebuild_search_index()
    except Exception as exc:  # noqa: BLE001 - the data is back; say what is left to do
        click.echo(f"SEARCH INDEX NOT REBUILT ({exc.__class__.__name__}: {exc}); {later}",
                   err=True)
        sys.exit(1)
    click.echo(f"search index rebuilt: {indexed} datasets")


@click.command("restore-check", short_help="Verify a restored portal (files, letters).")
@click.option("--from", "source", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="the backup it was restored from (compares its manifest too)")
def restore_check(source: Path | None) -> None:
    """Every file's bytes match their SHA-256 record, every signed letter verifies against
    the trust roots, every delivered resource matches its hash (and, with --from, every file
    and alembic revision of the backup is there)."""
    failures = run_check(source)
    for line in failures:
        click.echo(f"FAIL {line}", err=True)
    click.echo("RESTORE CHECK " + ("FAILED" if failures else "OK"))
    if failures:
        sys.exit(1)


__all__ = ["backup", "rebuild_search_index", "restore", "restore_check", "run_backup",
           "run_check", "run_restore"]
