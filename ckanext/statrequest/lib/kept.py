"""Uploads kept across a form's errors, so that a requester never chooses a good file twice.

A file that passed its own checks (`attachments.prepare`) while something else on the form was
wrong waits in a directory of its own under CKAN's storage path, named by a random token that
only the user's session holds (never the form, never an address): another session cannot name
it. It is neither a CKAN file nor a row (a failed submission writes nothing to the database),
it expires after `TTL` seconds, and whatever expired is removed whenever a file is kept. The
final submission hands the kept bytes to the action again, which checks them once more.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from ckanext.statrequest import settings
from ckanext.statrequest.lib.attachments import REQUESTER_KINDS, Prepared

TTL = 3600  # seconds a kept file waits for the form to be sent again
MAX_FORMS = 1000  # forms with kept files at once; beyond that nothing more is kept
AREA = "statrequest-kept"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _area() -> Path:
    return settings.storage_path() / AREA


def _dir(token: Any) -> Path | None:
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    return _area() / token


def _fresh(path: Path, now: float) -> bool:
    try:
        return now - path.stat().st_mtime < TTL
    except OSError:
        return False


def purge(now: float | None = None) -> int:
    """Remove every kept form older than `TTL`; the number removed."""
    now = time.time() if now is None else now
    area, removed = _area(), 0
    if not area.is_dir():
        return 0
    for entry in os.scandir(area):
        path = Path(entry.path)
        if not _fresh(path, now):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _owned(folder: Path, owner: str) -> bool:
    """Whether the kept form belongs to `owner` (a user id, "" for a visitor) and is fresh."""
    try:
        return (folder / "owner").read_text(encoding="utf-8") == owner and \
            _fresh(folder, time.time())
    except OSError:
        return False


def _owner_of(folder: Path) -> str | None:
    try:
        return (folder / "owner").read_text(encoding="utf-8")
    except OSError:
        return None


def mine(token: Any, owner: str) -> bool:
    """Whether `owner` may keep files under `token`: nothing is kept there yet, or what is
    kept is theirs."""
    folder = _dir(token)
    return folder is not None and (not folder.is_dir() or _owner_of(folder) == owner)


def keep(token: str, owner: str, prepared: Prepared) -> bool:
    """Keep one checked upload for the form `token` of `owner` (replacing the one of its kind);
    False when nothing was kept (a bad or foreign token, the area full)."""
    folder = _dir(token)
    if folder is None or prepared.kind not in REQUESTER_KINDS:
        return False
    purge()
    if folder.is_dir():
        if _owner_of(folder) != owner:
            return False  # someone else's: never touched
        if not _fresh(folder, time.time()):
            shutil.rmtree(folder, ignore_errors=True)
    if not folder.is_dir():
        area = _area()
        if area.is_dir() and sum(1 for _ in os.scandir(area)) >= MAX_FORMS:
            return False  # full: the form works as before, the file must be chosen again
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        (folder / "owner").write_text(owner, encoding="utf-8")
    meta = {"name": prepared.name, "size": prepared.size, "sha256": prepared.sha256}
    tmp = folder / f"{prepared.kind}.tmp"
    tmp.write_bytes(prepared.content)
    tmp.replace(folder / f"{prepared.kind}.bin")
    (folder / f"{prepared.kind}.json").write_text(json.dumps(meta), encoding="utf-8")
    os.utime(folder)  # the form is alive: its files expire an hour after the last submission
    return True


def _meta(folder: Path, kind: str) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / f"{kind}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def listing(token: Any, owner: str) -> dict[str, dict[str, Any]]:
    """What the form `token` keeps for `owner`: {kind: {"name", "size"}} (fresh ones only)."""
    folder = _dir(token)
    if folder is None or not _owned(folder, owner):
        return {}
    shown = {}
    for kind in REQUESTER_KINDS:
        meta = _meta(folder, kind)
        if meta and (folder / f"{kind}.bin").is_file():
            shown[kind] = {"name": str(meta.get("name", "")), "size": int(meta.get("size", 0))}
    return shown


def load(token: Any, owner: str, kind: str) -> tuple[str, bytes] | None:
    """The kept upload of this kind as (name, bytes), if it is `owner`'s, fresh and intact."""
    folder = _dir(token)
    if folder is None or kind not in REQUESTER_KINDS or not _owned(folder, owner):
        return None
    meta = _meta(folder, kind)
    try:
        content = (folder / f"{kind}.bin").read_bytes()
    except OSError:
        return None
    if not meta or hashlib.sha256(content).hexdigest() != meta.get("sha256"):
        return None
    return str(meta.get("name", kind)), content


def drop(token: Any, owner: str, kind: str) -> None:
    folder = _dir(token)
    if folder is not None and kind in REQUESTER_KINDS and _owner_of(folder) == owner:
        for suffix in (".bin", ".json"):
            (folder / f"{kind}{suffix}").unlink(missing_ok=True)


def clear(token: Any, owner: str) -> None:
    folder = _dir(token)
    if folder is not None and folder.is_dir() and _owner_of(folder) == owner:
        shutil.rmtree(folder, ignore_errors=True)
