"""Faults injected into a running `Stack`, each timed and described for the report.

kill_worker   kill -9 of an RQ job worker (and its work horse) while it runs a job; the
              supervisor starts a new worker 2 s later
smtp          the SMTP server stopped for N seconds, then started again on the same port
redis         Redis stopped (no persistence: every queued job and worker registration is
              lost) and started again after N seconds
solr          Solr stopped for N seconds, then started again on the same index
web           kill -9 of the busiest gunicorn worker process (the master starts a new one)
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from typing import Any

import psutil

from bench.scale.stack import Stack, queued_jobs


def kill_worker(stack: Stack, wait: float = 60) -> dict[str, Any]:
    """Wait for a worker to be in the middle of a job, then kill -9 it and its work horse."""
    import redis

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        for info in stack.rq_workers():
            job_id = info.get("current_job")
            if info.get("state") != "busy" or not job_id:
                continue
            pid = int(info.get("pid") or 0)
            target = next((w for w in stack.workers if w.pid == pid and w.alive()), None)
            if target is None:
                continue
            horses = []
            with contextlib.suppress(psutil.Error):
                horses = [c.pid for c in psutil.Process(pid).children()]
            description = ""
            with contextlib.suppress(redis.RedisError):
                conn = redis.Redis.from_url(stack.redis_url, socket_timeout=2)
                raw = conn.hget(f"rq:job:{job_id}", "description")
                description = raw.decode() if raw else ""
            # RQ's work horse has a process group of its own (os.setpgrp), so the group kill
            # misses it: killed too, right after the worker (nobody records the job's end)
            target._signal_group(signal.SIGKILL)
            for horse in horses:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(horse, signal.SIGKILL)
            target.kill9()  # waits for the worker's exit
            return {"worker_pid": pid, "children": horses, "job_id": job_id,
                    "job": description}
        time.sleep(0.05)
    return {"skipped": f"no job in progress within {wait:.0f} s"}


def smtp(stack: Stack, seconds: float) -> dict[str, Any]:
    stack.stop_smtp()
    time.sleep(seconds)
    stack.start_smtp()
    return {"down_seconds": seconds}


def redis_restart(stack: Stack, seconds: float) -> dict[str, Any]:
    import redis

    queued = -1
    with contextlib.suppress(redis.RedisError):
        conn = redis.Redis.from_url(stack.redis_url, socket_timeout=2)
        queued = queued_jobs(conn)
    stack.stop_redis()
    time.sleep(seconds)
    stack.start_redis()
    return {"down_seconds": seconds, "jobs_lost_from_queues": queued}


def solr(stack: Stack, seconds: float) -> dict[str, Any]:
    stack.stop_solr()
    time.sleep(seconds)
    started = time.monotonic()
    stack.start_solr()
    return {"stopped_seconds": seconds,
            "restart_seconds": round(time.monotonic() - started, 1)}


def web(stack: Stack) -> dict[str, Any]:
    """kill -9 the gunicorn worker that used the most CPU in the last half second."""
    procs = []
    for pid in stack.web_pids():
        with contextlib.suppress(psutil.Error):
            p = psutil.Process(pid)
            p.cpu_percent(None)
            procs.append(p)
    time.sleep(0.5)
    busiest, best = None, -1.0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            use = p.cpu_percent(None)
            if use > best:
                busiest, best = p, use
    if busiest is None:
        return {"skipped": "no gunicorn worker found"}
    os.kill(busiest.pid, signal.SIGKILL)
    started = time.monotonic()
    deadline = started + 120
    while time.monotonic() < deadline:
        if len(stack.web_pids()) >= stack.web_workers and busiest.pid not in stack.web_pids():
            break
        time.sleep(0.2)
    return {"pid": busiest.pid, "cpu_percent_before": round(best, 1),
            "replaced_after_seconds": round(time.monotonic() - started, 1)}


FAULTS = {"kill_worker": kill_worker, "smtp": smtp, "redis": redis_restart, "solr": solr,
          "web": web}


class Injector(threading.Thread):
    """Runs a plan [(offset seconds, fault, argument or None)] from `t0` on, one at a time."""

    def __init__(self, stack: Stack, plan: list[tuple[float, str, float | None]], t0: float
                 ) -> None:
        super().__init__(daemon=True, name="scale-faults")
        self.stack, self.plan, self.t0 = stack, plan, t0
        self.done: list[dict[str, Any]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        for offset, kind, arg in self.plan:
            delay = self.t0 + offset - time.time()
            if delay > 0 and self.stop.wait(delay):
                return
            started = time.time()
            try:
                fn = FAULTS[kind]
                detail = fn(self.stack, arg) if arg is not None else fn(self.stack)
                error = None
            except Exception as exc:  # noqa: BLE001 - reported, and the run goes on
                detail, error = {}, f"{type(exc).__name__}: {exc}"
            record = {"fault": kind, "arg": arg, "start": started, "end": time.time(),
                      "detail": detail, "error": error}
            self.done.append(record)
            self.stack.note(f"fault {kind}", **record)
