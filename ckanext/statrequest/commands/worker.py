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
OURS = "ckanext.statrequest."  # the module prefix of the extension's job functions
REQUEUED = "statrequest_requeued"  # job.meta: how often the job was put back after abandonment


def requeue_abandoned(queues: list[Any], limit: int) -> list[str]:
    """Put back on their queue, at most `limit` times each, the extension's jobs that RQ
    moved to the FailedJobRegistry as abandoned (their worker was killed while running them,
    `StartedJobRegistry.cleanup()`); returns their ids.

    Safe to repeat and to run from several workers: `requeue()` takes the job out of the
    registry atomically (ZREM), so only one of them puts it back. A re-run is harmless: each
    job decides from its database rows whether its work is still to do (an email's `sent_at`).
    """
    from rq.exceptions import InvalidJobOperation, NoSuchJobError
    from rq.registry import FailedJobRegistry

    done: list[str] = []
    for queue in queues:
        registry = FailedJobRegistry(queue=queue)
        for job_id in registry.get_job_ids():
            try:
                job = queue.fetch_job(job_id)
                if job is None or not (job.func_name or "").startswith(OURS):
                    continue
                result = job.latest_result()
                if result is None or "AbandonedJobError" not in (result.exc_string or ""):
                    continue  # a job that failed on its own has used up its RQ retries
                times = int(job.meta.get(REQUEUED, 0))
                if times >= limit:
                    continue
                job.meta[REQUEUED] = times + 1
                job.save_meta()
                registry.requeue(job)
            except (InvalidJobOperation, NoSuchJobError):  # another worker was faster
                continue
            log.warning("job %s (%s) was abandoned by a killed worker: queued again (%d/%d)",
                        job_id, job.func_name, times + 1, limit)
            done.append(job_id)
    return done


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
@click.option("--maintenance-every", default=60, show_default=True,
              help="Seconds between RQ's registry clean-ups, which find the jobs of killed "
                   "workers (RQ's own default: 600).")
@click.option("--requeue-limit", default=2, show_default=True,
              help="How often one abandoned job of the extension is queued again.")
def worker(queues: tuple[str, ...], burst: bool, no_scheduler: bool, check_every: float,
           maintenance_every: int, requeue_limit: int) -> None:
    """Work on the job queues (default: CKAN's default queue), like `ckan jobs worker`, and
    exit (status 75 if it must force it) once Redis has restarted or stays unreachable.

    A job whose worker was killed while running it stays "started" until its heartbeat
    expires (about 90 s); RQ's registry clean-up, run by this worker every
    `--maintenance-every` seconds, then retries it (if it has retries left) or moves it to
    the failed jobs, from where this worker queues the extension's jobs again."""
    import ckantoolkit as tk
    from ckan.lib import jobs

    registered = threading.Event()

    class Worker(jobs.Worker):
        def register_birth(self, *args: Any, **kwargs: Any) -> None:
            super().register_birth(*args, **kwargs)
            registered.set()

        def clean_registries(self) -> None:
            # RQ's maintenance hook (the worker's own loop): after its clean-up has moved the
            # abandoned jobs to the failed registry, put ours back
            super().clean_registries()
            try:
                requeue_abandoned(self.queues, requeue_limit)
            except Exception:  # never let the clean-up stop the worker
                log.exception("could not queue abandoned jobs again")

    # an idle worker waits for a job up to worker_ttl - 15 s before its loop looks at the
    # maintenance clock again: keep that wait within the maintenance interval
    # (job_monitoring_interval + 60 s is how long a killed job's heartbeat keeps it "started")
    w = Worker(list(queues) or None, maintenance_interval=maintenance_every,
               worker_ttl=max(maintenance_every, 30) + 15, job_monitoring_interval=10)
    stop = threading.Event()
    grace = float(tk.config.get("ckan.jobs.timeout") or 180) + 30
    watchdog = threading.Thread(target=_watch, args=(w, registered, stop, check_every, 3, grace),
                                name="statrequest-worker-watchdog", daemon=True)
    watchdog.start()
    try:
        w.work(burst=burst, with_scheduler=not no_scheduler)
    finally:
        stop.set()
