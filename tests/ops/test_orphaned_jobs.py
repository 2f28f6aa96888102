"""A job whose worker was killed (SIGKILL) in the middle of it is run again, once (#16).

Real processes, no mocks: a private `redis-server`, `ckan statrequest worker` against the test
database and that Redis, and an aiosmtpd server in this process. An outbox email's job is
enqueued without RQ retries (as when its retries are used up); the mail server holds the
worker's session at RCPT, so the job hangs mid-send; the worker and its work horse are killed
with SIGKILL, which leaves the job "started" for ever in plain RQ (its email never sent: the
outbox flush sees a job that is still running). A new worker's registry clean-up finds the
abandoned job and queues it again: the email arrives exactly once, and the job is queued
again only that once.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ckan.model as model
import pytest
from aiosmtpd.controller import Controller
from support import free_port

from ckanext.statrequest.commands.worker import REQUEUED
from ckanext.statrequest.lib import jobs
from ckanext.statrequest.model import Notification
from ckanext.statrequest.model import now as utc_now
from ops.test_worker_supervisor import QUEUE, RedisServer, _redis, _start, _stop, _wait

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class HoldingInbox:
    """Accepts mail; the first session is held at RCPT until `release` is set, so the
    sending job hangs before the server has accepted anything."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.held = threading.Event()
        self.release = threading.Event()
        self._first = True

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self._first:
            self._first = False
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.1)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[HoldingInbox, int]]:
    inbox, port = HoldingInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        inbox.release.set()
        controller.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    server = RedisServer(free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _worker(redis_port: int, smtp_port: int, log: Path) -> Any:
    env = dict(os.environ, CKAN_INI=str(ROOT / "test.ini"),
               CKAN_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
               CKAN_SMTP_SERVER=f"127.0.0.1:{smtp_port}")
    return _start([str(BIN / "ckan"), "-c", str(ROOT / "test.ini"), "statrequest", "worker",
                   "--maintenance-every", "5"], log, env)


def _kill_with_horse(proc: Any) -> None:
    import psutil

    worker = psutil.Process(proc.pid)
    for child in worker.children(recursive=True):  # the work horse running the job
        child.kill()
    worker.kill()
    proc.wait(10)


def test_a_job_of_a_killed_worker_is_run_again_and_its_mail_sent_once(
        clean_db, smtp, redis_server, tmp_path):
    inbox, smtp_port = smtp
    row = Notification(event_key="orphan-test", recipient="user:dewi", kind="received",
                       request_id=None, email="dewi@example.test", name="Dewi",
                       language="id", subject="Permintaan diterima", body="Halo Dewi.",
                       created_at=utc_now(), attempts=0)
    model.Session.add(row)
    model.Session.commit()
    nid = row.id
    from rq import Queue

    connection = _redis(redis_server.port)
    job_id = f"statrequest-email-{nid}"  # as lib/jobs.enqueue names it
    Queue(QUEUE, connection=connection).enqueue(jobs.send_notification, nid, job_id=job_id)

    first = _worker(redis_server.port, smtp_port, tmp_path / "worker1.log")
    try:
        assert inbox.held.wait(120), "the job never reached the mail server"
        _kill_with_horse(first)
    finally:
        _stop(first)
    inbox.release.set()  # the held session's client is gone; nothing was accepted
    from rq.job import Job

    assert Job.fetch(job_id, connection=connection).get_status() == "started"  # abandoned
    assert inbox.messages == []

    second = _worker(redis_server.port, smtp_port, tmp_path / "worker2.log")
    try:
        # the heartbeat of the killed job expires (~70 s), the next clean-up queues it again
        waited = _wait(lambda: len(inbox.messages) >= 1, 240, "the email sent by the new worker")
        time.sleep(12)  # two more clean-ups: nothing is queued or sent a second time
    finally:
        _stop(second)
    assert len(inbox.messages) == 1, inbox.messages
    assert f"<statrequest-{nid}@".encode() in inbox.messages[0]
    job = Job.fetch(job_id, connection=connection)
    assert job.get_status() == "finished" and job.meta.get(REQUEUED) == 1
    model.Session.remove()
    assert model.Session.get(Notification, nid).sent_at is not None
    print(f"abandoned job re-run and sent {waited:.0f} s after the new worker started")
