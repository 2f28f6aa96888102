"""`ckan statrequest worker`: CKAN's job worker (`ckan jobs worker`) that leaves when Redis
restarts, so that its supervisor (deploy/supervisor, deploy/systemd) starts a fresh one.

CKAN's RQ worker survives a Redis restart only in part: it reconnects and takes new jobs, but
its registration and its scheduler are gone with the old Redis, so jobs enqueued for later (the
outbox's retries, `enqueue_in`) are never moved to the queue again and no monitoring sees the
worker (tests/ops/test_worker_supervisor.py shows both). A watchdog thread checks every few
seconds that Redis still knows this worker; when Redis has forgotten it (restarted without its
data) or has not answered for a while, the worker stops the way SIGTERM stops it (a job in
progress finishes first) and exits; the supervisor starts it again with a new registration and
scheduler, retrying while Redis is still away.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

import click

log = logging.getLogger(__name__)
EXIT_LOST = 75  # EX_TEMPFAIL: the worker gave up on its Redis; start it again


def _watch(worker: Any, registered: threading.Event, stop: threading.Event, interval: float,
           limit: int, grace: float) -> None:
    import redis
    from rq.worker_registration import REDIS_WORKER_KEYS

    while not registered.wait(1):  # the worker registers itself in work()
        if stop.is_set():
            return
    failures = 0
    while not stop.wait(interval):
        try:
            # the registration, not the worker's hash: a heartbeat writes the hash again
            present = bool(worker.connection.sismember(REDIS_WORKER_KEYS, worker.key))
            failures = 0
        except redis.RedisError:
            failures += 1
            if failures < limit:
                continue
            reason = f"Redis has not answered for {failures} checks"
        else:
            if present:
                continue
            reason = "Redis no longer knows this worker (it restarted without its data)"
        log.warning("%s: stopping so that the supervisor starts a fresh worker", reason)
        os.kill(os.getpid(), signal.SIGTERM)  # RQ's warm shutdown: a job in progress ends
        if not stop.wait(grace):
            log.error("the worker did not stop within %.0f s; leaving now", grace)
            os._exit(EXIT_LOST)
        return


@click.command("worker", short_help="CKAN's job worker, restarted fresh after a Redis restart.")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--no-scheduler", is_flag=True, help="Do not move scheduled jobs to the queues.")
@click.option("--check-every", default=5.0, show_default=True,
              help="Seconds between the checks that Redis still knows this worker.")
def worker(queues: tuple[str, ...], burst: bool, no_scheduler: bool, check_every: float
           ) -> None:
    """Work on the job queues (default: CKAN's default queue), like `ckan jobs worker`, and
    exit (status 75 if it must force it) once Redis has restarted or stays unreachable."""
    import ckantoolkit as tk
    from ckan.lib import jobs

    registered = threading.Event()

    class Worker(jobs.Worker):
        def register_birth(self, *args: Any, **kwargs: Any) -> None:
            super().register_birth(*args, **kwargs)
            registered.set()

    w = Worker(list(queues) or None)
    stop = threading.Event()
    grace = float(tk.config.get("ckan.jobs.timeout") or 180) + 30
    watchdog = threading.Thread(target=_watch, args=(w, registered, stop, check_every, 3, grace),
                                name="statrequest-worker-watchdog", daemon=True)
    watchdog.start()
    try:
        w.work(burst=burst, with_scheduler=not no_scheduler)
    finally:
        stop.set()
