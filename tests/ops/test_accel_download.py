"""Downloads sent by nginx (#16): with `ckanext.statrequest.download.accel_redirect` the portal
checks access and records the opening as before, then answers with an empty body and
`X-Accel-Redirect`; nginx's `internal` location of deploy/nginx/statrequest.conf sends the file.

The second test runs the real nginx with the deploy site file (placeholders filled in, ports
moved to loopback) in front of the portal served over HTTP from this process.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ckan.model as model
import pytest
from sqlalchemy import func, select
from support import as_sysadmin, free_port, png_bytes, submit

from ckanext.statrequest.model import Attachment, IdentityAccess

pytestmark = pytest.mark.usefixtures("with_plugins")
ACCEL = pytest.mark.ckan_config("ckanext.statrequest.download.accel_redirect", "true")

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/_statrequest_files/"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def _row(rid: str, kind: str) -> Attachment:
    return model.Session.scalars(select(Attachment).where(
        Attachment.request_id == rid, Attachment.kind == kind,
        Attachment.deleted_at.is_(None))).one()


def _token(user: str) -> dict[str, str]:
    return {"Authorization": as_sysadmin("api_token_create", user=user, name="uji")["token"]}


def _accesses() -> int:
    count = model.Session.scalar(select(func.count()).select_from(IdentityAccess))
    model.Session.rollback()
    return int(count or 0)


def _storage_root() -> Path:
    from ckan.lib import files

    from ckanext.statrequest import settings

    return Path(os.path.realpath(files.get_storage(settings.file_storage()).settings.path))


@ACCEL
def test_download_answers_with_the_internal_address_after_the_access_check(office, app):
    rid = submit()["id"]
    identity = _row(rid, "identity_document")
    url = f"/permintaan-data/berkas/{identity.id}"

    got = app.get(url, headers=_token("pemohon1"))
    internal = got.headers["X-Accel-Redirect"]
    assert got.data == b"" and internal.startswith(PREFIX)
    assert got.headers["Content-Type"] == "image/png"
    assert "no-store" in got.headers["Cache-Control"]
    assert got.headers["Content-Disposition"].startswith("attachment;")
    served = _storage_root() / internal[len(PREFIX):]  # what nginx's alias maps it to
    assert hashlib.sha256(served.read_bytes()).hexdigest() == identity.sha256
    assert _accesses() == 1  # the opened identity document is on the record, as before

    for headers in ({}, _token("pemohon2"), _token("admin-pendidikan")):
        res = app.get(url, headers=headers, status=None)
        assert res.status_code in (403, 404), (headers, res.status_code)
        assert "X-Accel-Redirect" not in res.headers
    assert _accesses() == 1


def test_without_the_option_the_portal_streams_the_bytes(office, app):
    rid = submit()["id"]
    got = app.get(f"/permintaan-data/berkas/{_row(rid, 'identity_document').id}",
                  headers=_token("pemohon1"))
    assert "X-Accel-Redirect" not in got.headers and got.data == png_bytes()


# --- the real nginx ---------------------------------------------------------------------------

@contextlib.contextmanager
def _portal(app: Any) -> Iterator[int]:
    """The portal's WSGI application over HTTP on a loopback port (as `ckan run` serves it)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", free_port(), app.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        thread.join(10)


def _site(tmp: Path, upstream: int, http: int, https: int, files: Path) -> str:
    site = (ROOT / "deploy" / "nginx" / "statrequest.conf").read_text()
    changes = {
        "server 127.0.0.1:8080 max_fails=0;": f"server 127.0.0.1:{upstream} max_fails=0;",
        "    listen 80;\n": f"    listen 127.0.0.1:{http};\n",
        "    listen [::]:80;\n": "",
        "    listen 443 ssl http2;\n": f"    listen 127.0.0.1:{https} ssl;\n",
        "    listen [::]:443 ssl http2;\n": "",
        "/etc/ssl/statrequest/PLACEHOLDER_fullchain.pem": str(tmp / "cert.pem"),
        "/etc/ssl/statrequest/PLACEHOLDER_privkey.pem": str(tmp / "key.pem"),
        "PLACEHOLDER_SERVER_NAME": "portal.test",
        "alias /var/lib/ckan/files/;": f"alias {files}/;",
    }
    for old, new in changes.items():
        assert old in site, f"deploy/nginx/statrequest.conf no longer has {old!r}"
        site = site.replace(old, new)
    return site


@contextlib.contextmanager
def _nginx(tmp: Path, site: str, port: int) -> Iterator[None]:
    assert NGINX is not None
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=portal.test", "-keyout", str(tmp / "key.pem"),
                    "-out", str(tmp / "cert.pem")], capture_output=True, check=True, timeout=60)
    (tmp / "site.conf").write_text(site)
    temp = "".join(f" {kind}_temp_path {tmp}/{kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # root's nginx runs its workers as root here so that they read the test storage
    user = "user root;\n" if os.geteuid() == 0 else ""
    (tmp / "nginx.conf").write_text(
        f"{user}pid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\nevents {{}}\n"
        f"http {{\n include /etc/nginx/mime.types;\n access_log {tmp}/access.log;\n{temp}"
        f" include {tmp}/site.conf;\n}}\n")
    proc = subprocess.Popen([NGINX, "-c", str(tmp / "nginx.conf"), "-p", str(tmp),
                             "-g", "daemon off;"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start: {proc.stdout.read() if proc.stdout else ''}"
                                   f"{(tmp / 'error.log').read_text(errors='replace')}")
            time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        proc.wait(20)


@ACCEL
@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light; "
                    "dev/services.sh install does)")
def test_nginx_sends_the_file_after_the_portal_checked_access(office, app, tmp_path):
    import requests
    import urllib3

    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    rid = submit()["id"]
    identity, letter = _row(rid, "identity_document"), _row(rid, "request_letter")
    tokens = {user: _token(user) for user in ("pemohon1", "pemohon2")}
    https = free_port()
    with _portal(app) as upstream, _nginx(
            tmp_path, _site(tmp_path, upstream, free_port(), https, _storage_root()), https):
        base = f"https://127.0.0.1:{https}"

        def get(path: str, user: str | None = None) -> requests.Response:
            return requests.get(base + path, headers={"Host": "portal.test",
                                                      **tokens.get(user or "", {})},
                                verify=False, timeout=60)  # noqa: S501 (self-signed, loopback)

        for row in (identity, letter):
            got = get(f"/permintaan-data/berkas/{row.id}", "pemohon1")
            assert got.status_code == 200, got.text[:500]
            assert hashlib.sha256(got.content).hexdigest() == row.sha256 and got.content
            assert "X-Accel-Redirect" not in got.headers  # nginx consumed it
            assert "Last-Modified" in got.headers  # nginx's static module sent the file
            assert got.headers["Content-Type"].startswith(row.media_type)
            assert got.headers["Content-Disposition"].startswith("attachment;")
            assert "no-store" in got.headers["Cache-Control"]
            assert got.headers["X-Content-Type-Options"] == "nosniff"
        assert _accesses() == 1  # the identity document, opened once
        part = requests.get(base + f"/permintaan-data/berkas/{letter.id}", verify=False,  # noqa: S501
                            headers={"Host": "portal.test", "Range": "bytes=0-3",
                                     **tokens["pemohon1"]}, timeout=60)
        assert part.status_code == 206 and part.content == b"%PDF"  # resumable downloads

        shown = get(f"/permintaan-data/berkas/{identity.id}?lihat=1", "pemohon1")
        assert shown.content == png_bytes()
        assert "default-src 'none'" in shown.headers["Content-Security-Policy"]
        assert _accesses() == 2

        for user in (None, "pemohon2"):  # no file and no internal address for them
            res = get(f"/permintaan-data/berkas/{identity.id}", user)
            assert res.status_code in (403, 404), (user, res.status_code)
            assert png_bytes() not in res.content
        # the internal location is not reachable from outside
        internal = app.get(f"/permintaan-data/berkas/{identity.id}",
                           headers=tokens["pemohon1"]).headers["X-Accel-Redirect"]
        assert get(internal).status_code == 404
        assert _accesses() == 3  # the test client's call above; nobody else's
