"""S3 object storage that lets a process start while the store is down (`statrequest:s3`).

file-keeper's `file_keeper:s3` adapter asks the store for its bucket while CKAN loads, so a web
process, a job worker or a command that starts during an outage of the store dies at boot (and
gunicorn stops a node whose new worker fails to boot). This adapter is the same storage with
three differences:

- nothing is asked of the store at start-up: the boto3 client is made, and the bucket checked
  (or created, with `initialize`), at the first file operation of each process;
- a store that does not answer (connection refused, a timeout, a 5xx answer) is one clear
  exception, `StorageUnavailable`, which the pages and the API show as "file storage is
  temporarily unavailable" (HTTP 503) and the actions treat like any other error: their
  transaction is rolled back, so nothing is half-written;
- the flags are real booleans (`initialize = false` in an ini is the string "false", which
  file-keeper takes as true), and `scan()` works with an empty `path`.

Configured like file-keeper's adapter: `ckan.files.storage.<name>.type = statrequest:s3` with
`bucket`, `endpoint`, `key`, `secret`, `region`, `path`, `initialize`.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import botocore.exceptions
import file_keeper as fk
from ckan.lib.files import base
from ckantoolkit import asbool
from file_keeper.default.adapters import s3
from typing_extensions import override

log = logging.getLogger(__name__)

ADAPTER = "statrequest:s3"

# fail fast while the store is down: botocore's default (legacy mode, 5 attempts, 60 s
# timeouts) would hold a web request for minutes before the user sees anything
CLIENT_CONFIG: dict[str, Any] = {"connect_timeout": 5, "read_timeout": 60,
                                 "retries": {"max_attempts": 2, "mode": "standard"}}

# client methods that only compute something locally (no request to the store)
_LOCAL = frozenset({"generate_presigned_url", "generate_presigned_post", "can_paginate",
                    "get_paginator", "get_waiter", "close"})


class StorageUnavailable(Exception):  # noqa: N818 (reads as a state, like CKAN's NotFound)
    """The object store did not answer; nothing of the operation was done."""

    def __init__(self, storage: str, operation: str, reason: str) -> None:
        super().__init__(f"storage {storage!r}: {operation} failed, the store is unavailable "
                         f"({reason})")
        self.storage, self.operation, self.reason = storage, operation, reason
        from flask import g, has_request_context

        # CKAN's API view turns every unknown exception into a bare 500; this flag lets the
        # app's after-request hook answer 503 "storage unavailable" instead
        if has_request_context():
            g.statrequest_storage_unavailable = True


def unreachable(exc: BaseException) -> bool:
    """True for errors that say the store is away, not that the request was wrong."""
    if isinstance(exc, (botocore.exceptions.ConnectionError,
                        botocore.exceptions.HTTPClientError)):
        return True
    if isinstance(exc, botocore.exceptions.ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return int(status) >= 500
    return False


class LazyClient:
    """The boto3 client of one process, made and checked at its first use.

    A new one after a fork (gunicorn workers, RQ's work horse): connections of the parent's
    pool must not be shared with the child.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None
        self._pid = 0
        self._ready = False
        self._lock = threading.Lock()

    def _make(self) -> Any:
        import boto3
        from botocore.config import Config

        s = self._settings
        return boto3.client("s3", aws_access_key_id=s.key, aws_secret_access_key=s.secret,
                            region_name=s.region, endpoint_url=s.endpoint,
                            config=Config(**s.config))

    @property
    def raw(self) -> Any:
        """The boto3 client itself (made on first access, never calls the store)."""
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                self._client, self._pid, self._ready = self._make(), os.getpid(), False
            return self._client

    def _check_bucket(self, client: Any) -> None:
        if self._ready:
            return
        s = self._settings
        try:
            client.head_bucket(Bucket=s.bucket)
        except botocore.exceptions.ClientError as err:
            if unreachable(err):
                raise
            if not s.initialize:
                raise fk.exc.InvalidStorageConfigurationError(
                    s.name, f"bucket {s.bucket} does not exist") from err
            try:
                client.create_bucket(Bucket=s.bucket)
            except botocore.exceptions.ClientError as exc:  # made by another process meanwhile
                if exc.response.get("Error", {}).get("Code") not in (
                        "BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
        self._ready = True

    def __getattr__(self, name: str) -> Any:
        client = self.raw
        attr = getattr(client, name)
        if name in _LOCAL or not callable(attr):
            return attr  # `exceptions`, `meta`, local helpers

        @functools.wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                self._check_bucket(client)
                return attr(*args, **kwargs)
            except Exception as exc:
                if unreachable(exc):
                    log.warning("object store %s unavailable on %s: %s",
                                self._settings.name, name, exc)
                    raise StorageUnavailable(self._settings.name, name, str(exc)) from exc
                raise

        return call


@dataclasses.dataclass()
class Settings(base.Settings, s3.Settings):
    @override
    def __post_init__(self, **kwargs: Any) -> None:
        # file-keeper's base check of required options, not the S3 one: that one calls the store
        fk.Settings.__post_init__(self, **kwargs)
        self.path = self.path.strip("/")
        self.initialize = asbool(self.initialize)  # "false" from an ini is a non-empty string
        self.overwrite_existing = asbool(self.overwrite_existing)
        self.public = asbool(self.public)
        self.config = {**CLIENT_CONFIG, **(self.config or {})}
        if self.client is None:  # pyright: ignore[reportUnnecessaryComparison]
            self.client = LazyClient(self)  # type: ignore[assignment]


def _chunks(body: Any, storage: str, size: int = 64 * 1024) -> Iterator[bytes]:
    """The object's bytes; a store that goes away while they stream is StorageUnavailable."""
    import urllib3.exceptions

    try:
        yield from body.iter_chunks(size)
    except (botocore.exceptions.BotoCoreError, urllib3.exceptions.HTTPError, OSError) as exc:
        raise StorageUnavailable(storage, "stream", str(exc)) from exc
    finally:
        body.close()


class Reader(base.Reader, s3.Reader):
    storage: Storage

    @override
    def stream(self, data: fk.FileData, extras: dict[str, Any]) -> Iterable[bytes]:
        return _chunks(super().stream(data, extras), self.storage.settings.name)


class Manager(base.Manager, s3.Manager):
    storage: Storage

    @override
    def scan(self, extras: dict[str, Any]) -> Iterable[str]:
        if self.storage.settings.path:
            yield from super().scan(extras)
            return
        # file-keeper computes os.path.relpath(key, "") here, a ValueError: keys are the names
        client, bucket = self.storage.settings.client, self.storage.settings.bucket
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                if "Key" in item:
                    yield item["Key"]

    @override
    def exists(self, data: fk.FileData, extras: dict[str, Any]) -> bool:
        # HEAD instead of file-keeper's GET: no need to download the object to see it is there
        client = self.storage.settings.client
        try:
            client.head_object(Bucket=self.storage.settings.bucket,
                               Key=self.storage.full_path(data.location))
        except botocore.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


class Storage(base.Storage, s3.S3Storage):
    """file-keeper's S3 storage, lenient at start-up (see the module's text)."""

    settings: Settings
    SettingsFactory = Settings
    UploaderFactory = type("Uploader", (base.Uploader, s3.Uploader), {})
    ReaderFactory = Reader
    ManagerFactory = Manager

    @override
    @classmethod
    def declare_config_options(cls, declaration: Any, key: Any) -> None:
        super().declare_config_options(declaration, key)
        declaration.declare(key.bucket).required().set_description(
            "Name of the bucket (created at first use when `initialize` is true).")
        declaration.declare(key.endpoint).set_description(
            "Address of the S3 service (SeaweedFS, MinIO); empty: AWS.")
        declaration.declare(key.key).set_description("Access key.")
        declaration.declare(key.secret).set_description("Secret key.")
        declaration.declare(key.region).set_description("Region of the bucket.")
