"""The two documented commands on a machine set up unlike ours (findings 5, 15 and 16 of the
hardening issue): a clone inside a private (0700) folder, every service on other ports.

`make demo` of such a clone must serve the home page, its development server must not expose
Werkzeug's interactive debugger, and the test configuration must reach the services on the
ports given by the documented variables. Runs the real scripts: PostgreSQL, Redis and Solr are
started on free loopback ports and stopped again.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback)
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def copy_checkout(dest: Path) -> None:
    """What a clone of this tree holds: the tracked files as they are now."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, files):
        src = ROOT / name.decode()
        if src.is_file():
            (dest / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name.decode())


def share_mailpit(clone: Path) -> None:
    """The clone uses our Mailpit build (`go install` takes minutes); `dev/services.sh install`
    builds it here first when it is missing, and sees it as up to date in the clone."""
    subprocess.run(["bash", "dev/services.sh", "install-mailpit"], cwd=ROOT, check=True,
                   capture_output=True, timeout=900)
    (clone / ".run" / "bin").mkdir(parents=True, exist_ok=True)
    for name in ("mailpit", "mailpit.version"):
        (clone / ".run" / "bin" / name).symlink_to(ROOT / ".run" / "bin" / name)


@pytest.fixture
def private_clone():
    venv = ROOT / ".venv"
    want = hashlib.sha256(b"".join(
        (ROOT / f).read_bytes() for f in ("requirements.txt", "dev-requirements.txt", "setup.cfg")
    )).hexdigest()[:16]
    # The clone shares our virtualenv (installing one takes minutes); the scripts then see it
    # as up to date and install nothing into it.
    assert (venv / ".installed").read_text().strip() == want, \
        "the virtualenv is not up to date: run `make services` (or `make test`) first"
    top = Path(tempfile.mkdtemp(prefix="statrequest-private-"))  # mode 0700, like /root
    assert (top.stat().st_mode & 0o777) == 0o700
    clone = top / "ckanext-statrequest"
    copy_checkout(clone)
    (clone / ".venv").symlink_to(venv)
    share_mailpit(clone)
    ports = {name: str(free_port())
             for name in ("PG", "REDIS", "SOLR", "DEMO", "SMTP", "MAILPIT", "PKI")}
    env = {**{k: v for k, v in os.environ.items()
              if not k.startswith("CKAN_") and k != "STATREQUEST_TEST_SET"},
           **{f"STATREQUEST_{name}_PORT": port for name, port in ports.items()}}
    yield clone, ports, env
    subprocess.run(["bash", "dev/services.sh", "stop"], cwd=clone, env=env, capture_output=True,
                   timeout=120, check=False)
    cluster = Path(os.path.realpath(clone / ".run" / "pgdata")).parent
    shutil.rmtree(top, ignore_errors=True)
    if str(cluster).startswith("/var/lib/postgresql/statrequest/"):
        shutil.rmtree(cluster, ignore_errors=True)


def test_demo_from_a_private_folder_on_other_ports(private_clone):
    clone, ports, env = private_clone
    log = (clone.parent / "demo.log").open("wb")
    demo = subprocess.Popen(["make", "demo"], cwd=clone, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    home = f"http://127.0.0.1:{ports['DEMO']}/"
    try:
        deadline = time.time() + 420
        status = None
        while time.time() < deadline and demo.poll() is None:
            try:
                status, _body = get(home, timeout=5)
            except OSError:
                status = None
            if status == 200:
                break
            time.sleep(2)
        output = (clone.parent / "demo.log").read_text(errors="replace")[-4000:]
        assert status == 200, f"make demo did not serve {home}:\n{output}"

        # finding 15: PostgreSQL could not enter the private folder, so its cluster lives in
        # a folder of its own, and .run/pgdata leads there
        cluster = os.path.realpath(clone / ".run" / "pgdata")
        assert cluster.startswith("/var/lib/postgresql/statrequest/"), cluster
        # finding 16: the demo configuration names the ports it was given
        ini = (clone / ".run" / "demo.ini").read_text()
        for key in ("PG", "REDIS", "SOLR", "DEMO", "PKI"):
            assert f"127.0.0.1:{ports[key]}" in ini, key
        # no default port left behind (as a port: a random one may contain its digits)
        for default in ("5432", "8983", "6379"):
            assert not re.search(rf":{default}\b", ini), default

        # issue 15: the demo's mail goes to Mailpit, whose inbox make demo names
        assert f"http://127.0.0.1:{ports['MAILPIT']}/" in output
        assert f"smtp.server = 127.0.0.1:{ports['SMTP']}" in ini
        assert get(f"http://127.0.0.1:{ports['MAILPIT']}/api/v1/messages")[0] == 200

        # finding 5: no interactive debugger (it would serve its console script here)
        _status, body = get(home + "?__debugger__=yes&cmd=resource&f=debugger.js")
        assert b"EVALEX" not in body, "the Werkzeug debugger is on"

        # finding 16: the test configuration reaches the same services (dev/test.sh's way)
        migrate = subprocess.run(
            ["bash", "-c", ". dev/ports.sh && export_test_urls && .venv/bin/ckan -c test.ini db upgrade"],
            cwd=clone, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-2000:]
        tables = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", ports["PG"], "-U", "postgres", "-d", "ckan_test",
             "-tAc", "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'statrequest_%'"],
            capture_output=True, text=True, check=True)
        assert int(tables.stdout.strip()) > 5
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGTERM)
            try:
                demo.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
        log.close()


def test_mailpit_catches_mail_and_shows_it_through_its_api(tmp_path):
    """Mailpit as `dev/services.sh` runs it for the demo (issue 15): a mail sent to the demo's
    SMTP port is read back through Mailpit's HTTP API; `stop` ends it."""
    clone = tmp_path / "clone"
    for name in ("dev/services.sh", "dev/ports.sh"):
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, clone / name)
    share_mailpit(clone)
    smtp_port, web_port = free_port(), free_port()
    env = {**os.environ, "STATREQUEST_SMTP_PORT": str(smtp_port),
           "STATREQUEST_MAILPIT_PORT": str(web_port)}

    def script(*args: str) -> str:
        done = subprocess.run(["bash", "dev/services.sh", *args], cwd=clone, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    assert f"inbox http://127.0.0.1:{web_port}/" in script("restart-mailpit")
    try:
        message = EmailMessage()
        message["From"], message["To"] = "portal@satudata.test", "dewi@example.test"
        message["Subject"] = "Permintaan PDS-2026-00001 diterima"
        message.set_content("Nomor pelacakan: PDS-2026-00001")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.send_message(message)
        status, body = get(f"http://127.0.0.1:{web_port}/api/v1/messages")
        assert status == 200
        listed = json.loads(body)
        assert listed["total"] == 1
        caught = listed["messages"][0]
        assert caught["Subject"] == "Permintaan PDS-2026-00001 diterima"
        assert [to["Address"] for to in caught["To"]] == ["dewi@example.test"]
        assert "mailpit: up" in script("status")
    finally:
        script("stop")
    assert "mailpit: down" in script("status")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", smtp_port), timeout=2).close()
