"""Job workers survive a Redis restart (#16), under the shipped supervisor configuration.

Real processes, no mocks: a private `redis-server`, `supervisord` from deploy/supervisor/
(the shipped supervisord.conf with only the workers' program file included) running two
`ckan jobs worker` against the test database and that Redis. A job runs; Redis is stopped and
started again (empty: no persistence); a job enqueued afterwards runs, and so does a job
scheduled for later (the outbox's retries are such jobs): CKAN's own worker reconnects but
its scheduler does not come back, so the shipped program runs `ckan statrequest worker`, which
exits when Redis has forgotten it, and supervisor starts both workers afresh.

The job is `os.makedirs(<dir>)`, importable by any worker: its directory appearing is the
proof that a worker took it and ran it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEPLOY = ROOT / "deploy"
QUEUE = "ckan:statrequest-test:default"  # `ckan jobs worker`'s queue with test.ini's site_id


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis(port: int) -> Any:
    import redis

    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)


def _wait(check: Any, timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        with contextlib.suppress(Exception):
            if check():
                return time.monotonic() - start
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def _start(argv: list[str], log: Path, env: dict[str, str] | None = None
           ) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=ROOT, env=env,
                                start_new_session=True)


def _stop(proc: subprocess.Popen[bytes] | None, timeout: float = 30) -> None:
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


class RedisServer:
    def __init__(self, port: int, workdir: Path) -> None:
        self.port, self.workdir = port, workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = _start(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                            "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
                           self.workdir / "redis.log")
        _wait(lambda: _redis(self.port).ping(), 20, "redis-server up")

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None


def _worker_pids(supervisord: subprocess.Popen[bytes]) -> set[int]:
    import psutil

    return {c.pid for c in psutil.Process(supervisord.pid).children()
            if "worker" in " ".join(c.cmdline())}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    if shutil.which("redis-server") is None or not (BIN / "supervisord").exists():
        pytest.skip("needs redis-server and supervisord (pip install supervisor)")
    port = _free_port()
    redis_server = RedisServer(port, tmp_path)
    redis_server.start()
    conf = tmp_path / "supervisord.conf"
    shipped = (DEPLOY / "supervisor" / "supervisord.conf").read_text()
    head, _, _ = shipped.partition("[include]")
    conf.write_text(head + "[include]\nfiles = "
                    f"{DEPLOY / 'supervisor' / 'statrequest-workers.conf'}\n")
    env = dict(os.environ,  # the test database of /tmp/pt.sh, a private Redis
               CKAN_INI=str(ROOT / "test.ini"), CKAN_REDIS_URL=f"redis://127.0.0.1:{port}/0",
               STATREQUEST_VENV=str(BIN.parent), STATREQUEST_DEPLOY=str(DEPLOY),
               STATREQUEST_RUN=str(tmp_path), STATREQUEST_LOG=str(tmp_path))
    supervisord = _start([str(BIN / "supervisord"), "-c", str(conf)], tmp_path / "sd.out", env)
    try:
        yield {"redis": redis_server, "port": port, "supervisord": supervisord,
               "dir": tmp_path, "env": env, "conf": conf}
    finally:
        _stop(supervisord, timeout=60)
        redis_server.stop()


def _enqueue_mkdir(port: int, path: Path) -> None:
    from rq import Queue

    Queue(QUEUE, connection=_redis(port)).enqueue(os.makedirs, str(path))


def _registered(port: int) -> int:
    return _redis(port).scard("rq:workers")


def test_workers_run_jobs_again_after_a_redis_restart(stack):
    port, d, sd = stack["port"], stack["dir"], stack["supervisord"]
    _wait(lambda: _registered(port) >= 2, 120, "two workers registered in Redis")
    _enqueue_mkdir(port, d / "before")
    _wait((d / "before").is_dir, 60, "a job before the restart")
    before = _worker_pids(sd)
    assert len(before) == 2

    stack["redis"].stop()
    time.sleep(3)  # the workers notice the outage (or not) while Redis is away
    stack["redis"].start()  # an empty Redis (no persistence): the harshest case
    _enqueue_mkdir(port, d / "after")
    took = _wait((d / "after").is_dir, 120, "a job enqueued after the Redis restart")
    # a retry is a scheduled job (enqueue_in): the workers' scheduler must work again too
    from rq import Queue

    Queue(QUEUE, connection=_redis(port)).enqueue_in(
        dt.timedelta(seconds=1), os.makedirs, str(d / "scheduled"))
    took_scheduled = _wait((d / "scheduled").is_dir, 120, "a scheduled job after the restart")
    _wait(lambda: _registered(port) >= 2, 60, "both workers registered in the new Redis")

    def status() -> str:
        return subprocess.run([str(BIN / "supervisorctl"), "-c", str(stack["conf"]), "status"],
                              env=stack["env"], capture_output=True, text=True,
                              check=False).stdout

    # a restarted worker registers in Redis before supervisor counts it RUNNING (startsecs)
    _wait(lambda: status().count("RUNNING") == 2, 60, "both workers RUNNING under supervisor")
    after = _worker_pids(sd)
    assert len(after) == 2, status()
    restarted = len(before - after)
    assert restarted == 2  # `ckan statrequest worker` left the forgetful Redis; supervisor
    print(f"job after the Redis restart ran {took:.1f} s after enqueueing, a scheduled one "
          f"{took_scheduled:.1f} s; registered workers {_registered(port)}; "
          f"{restarted} of 2 workers restarted by supervisor")
