"""Mail sender benchmark: emails per second from the outbox to a local SMTP server, with one
RQ job per email (as `ckan jobs worker` runs them today) and with batched sending.

    .venv/bin/python bench/mail.py --duration 60          # ~4 min: both modes, 2 workers each
    .venv/bin/python bench/mail.py --modes batch --workers 1,2 --rate 50 --max-backlog 0 \
        --duration 300                                    # #16: 50/s produced for 5 minutes

Not a timed test: it prints numbers and never fails on them. For each mode, on the `ckan_bench`
database (bench/bench.ini) with an emptied outbox:

1. a real SMTP server (bench/scale/smtpsink.py) on a free port; its log, written before it
   answers 250, is what arrived;
2. `--workers` processes of `ckan -c <ini> statrequest worker <queue>` (what deploy/ runs;
   `--worker-command jobs`: `ckan jobs worker`) on a queue of the run's own, with the mode's
   setting (`ckanext.statrequest.notify.batch_size` 0 or `--batch-size`);
3. for `--duration` seconds a producer commits outbox rows at `--rate` a second, one row per
   transaction as a step does, and starts their sending exactly as the portal does
   (`notifications.enqueue_all`). It pauses while `--max-backlog` emails wait, so a slow
   sender is measured at its own speed and the backlog stays drainable; `--max-backlog 0`
   never pauses (a sustained rate: the backlog, sampled every 5 s, shows whether the
   workers keep up);
4. it waits (up to `--drain-timeout`) until every row is sent, then stops the workers and the
   server and reads the log.

`--kill-every S` (#16, zero duplicated mails): every ~S seconds a worker in the middle of a job
is killed with SIGKILL, with its work horse (as the scale run's `kill_worker` fault does), and
started again; the report counts the kills and the duplicates (an email whose sender died after
the server's 250 and before its COMMIT: the one window SMTP leaves). `--sink-delay` makes the
SMTP server take that long per message (the scale run's sink: 0.2 s).

Reported per mode: mails/s delivered during the window, produced / delivered, latency from the
row's commit to the server's 250 (p50/p95), lost (a row marked sent that the server never
got; rows still unsent when the drain times out are `unsent_at_end`) and duplicated (a
Message-ID logged twice) — both must be 0. What it touches: `ckan_bench` (the outbox table is
emptied first), Redis db 2 (its own queue, emptied afterwards), `.run/bench-mail/`.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import contextvars
import datetime as dt
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import run  # bench/run.py: the same database, app loading and port variables

ROOT = run.ROOT
WORK = ROOT / ".run" / "bench-mail"
BODY = ("Yth. Bapak/Ibu,\n\nPermintaan data berikut menunggu tindakan Anda.\n\n"
        + "Judul: Jumlah posyandu aktif per desa menurut kecamatan, 2020-2025.\n" * 8
        + "\nTerima kasih.\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sink(port: int, log: Path, delay: float = 0.0) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.scale.smtpsink", "--port", str(port), "--log", str(log),
         "--delay", str(delay)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        proc.kill()
        sys.exit(f"the SMTP server did not start: {line}{proc.stdout.read()}")
    return proc


def stop(procs: list[subprocess.Popen[Any]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def any_request_id() -> str:
    """Outbox rows belong to a request: any one of the bench database, or a new one."""
    import ckan.model as model
    from sqlalchemy import select

    from ckanext.statrequest.model import Request

    rid = model.Session.scalar(select(Request.id).limit(1))
    if rid is None:
        people = run.setup()
        rid = run.submit(next(iter(people["requesters"].values())), 1)["id"]
    model.Session.remove()
    return str(rid)


def empty_outbox() -> None:
    import ckan.model as model
    from sqlalchemy import delete

    from ckanext.statrequest.model import Notification

    model.Session.execute(delete(Notification))
    model.Session.commit()


def unsent() -> int:
    import ckan.model as model
    from sqlalchemy import func, select

    from ckanext.statrequest.model import Notification

    count = model.Session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.sent_at.is_(None)))
    model.Session.rollback()
    return int(count or 0)


def produce_one(request_id: str, n: int, tag: str) -> int:
    """One committed outbox row, then enqueued the way a step enqueues its emails."""
    import ckan.model as model
    from sqlalchemy import insert

    from ckanext.statrequest.lib import notifications
    from ckanext.statrequest.model import Notification
    from ckanext.statrequest.model import now as utc_now

    row_id = model.Session.execute(insert(Notification).values(
        event_key=f"bench:{tag}:{n}", recipient=f"email:petugas{n}@bench.test",
        kind="action_needed", request_id=request_id, email=f"petugas{n}@bench.test",
        name=f"Petugas {n}", language="id", subject=f"Permintaan data menunggu tindakan ({n})",
        body=BODY, created_at=utc_now(), attempts=0,
    ).returning(Notification.id)).scalar_one()
    model.Session.commit()
    notifications.enqueue_all([row_id])
    return int(row_id)


def workers_ready(queue: str, count: int, timeout: float = 120) -> None:
    from ckan.lib import jobs as ckan_jobs
    from rq import Worker

    rq_queue = ckan_jobs.get_queue(queue)
    deadline = time.monotonic() + timeout
    while Worker.count(queue=rq_queue) < count:
        if time.monotonic() > deadline:
            sys.exit(f"the workers did not start within {timeout:.0f} s (see {WORK})")
        time.sleep(0.2)


def clear_queue(queue: str) -> None:
    from ckan.lib import jobs as ckan_jobs

    q = ckan_jobs.get_queue(queue)
    q.empty()
    q.connection.delete(f"statrequest:email-batch:{q.name}")  # jobs.enqueue_batch's pointer
    for registry in (q.scheduled_job_registry, q.failed_job_registry, q.finished_job_registry):
        for job_id in registry.get_job_ids():
            # a killed job (--kill-every) may have lost its execution record
            with contextlib.suppress(ValueError):
                registry.remove(job_id, delete_job=True)


def cpu_seconds(pid: int) -> float:
    """CPU time of a worker and of its finished work horses (the forks RQ waited for)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def trend_per_min(samples: list[tuple[float, int]]) -> float | None:
    """Least-squares slope of the backlog (emails per minute) after the first 30 s of warm-up:
    about 0 when the workers keep up, the shortfall per minute when they do not."""
    if not samples:
        return None
    start = samples[0][0] + 30
    points = [(t, b) for t, b in samples if t >= start] or samples
    if len(points) < 2:
        return None
    mt = statistics.fmean(t for t, _ in points)
    mb = statistics.fmean(b for _, b in points)
    var = sum((t - mt) ** 2 for t, _ in points)
    return round(60 * sum((t - mt) * (b - mb) for t, b in points) / var, 1) if var else None


def start_producers(args: argparse.Namespace, request_id: str, tag: str, t0: float,
                    end: float, produced: list[int]) -> list[threading.Thread]:
    """`--producers` threads sharing the rate, each with its own database session, as steps
    committed by several web processes at once (one producer alone cannot commit 50 rows a
    second on a busy machine). None with one producer: the main loop produces."""
    import ckan.model as model

    count = args.producers if not args.max_backlog else 1
    if count <= 1:
        return []
    lock = threading.Lock()

    def produce(k: int) -> None:
        try:
            n = k
            while (now := time.time()) < end:
                if n < args.rate * (now - t0):
                    row_id = produce_one(request_id, n, tag)
                    with lock:
                        produced.append(row_id)
                    n += count
                else:
                    time.sleep(0.002)
        finally:
            model.Session.remove()

    threads = [threading.Thread(target=contextvars.copy_context().run, args=(produce, k),
                                daemon=True) for k in range(count)]
    for thread in threads:
        thread.start()
    return threads


def start_killer(queue: str, workers: list[subprocess.Popen[Any]], start: Any, every: float,
                 end: float, kills: list[dict[str, Any]]) -> threading.Thread:
    """Every ~`every` seconds (at a random moment) kill -9 a worker that RQ says is busy, and
    its work horse, then start a new worker in its place (systemd's Restart=always)."""
    import random

    import psutil
    from ckan.lib import jobs as ckan_jobs
    from rq import Worker

    rq_queue = ckan_jobs.get_queue(queue)

    def kill() -> None:
        while time.time() < end:
            time.sleep(every * random.uniform(0.5, 1.5))  # noqa: S311 - not cryptography
            busy = [w for w in Worker.all(queue=rq_queue)
                    if w.get_state() == "busy" and w.get_current_job_id()]
            index = {p.pid: i for i, p in enumerate(workers)}
            target = next((w for w in busy if w.pid in index), None)
            if target is None:
                continue
            proc = workers[index[target.pid]]
            try:
                horses = [c.pid for c in psutil.Process(proc.pid).children()]
            except psutil.Error:
                horses = []
            proc.kill()
            for horse in horses:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(horse, signal.SIGKILL)
            proc.wait()
            kills.append({"t": time.time(), "job": target.get_current_job_id(),
                          "horses": len(horses)})
            workers[index[target.pid]] = start()

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def run_mode(mode: str, args: argparse.Namespace, request_id: str, n_workers: int
             ) -> dict[str, Any]:
    import ckan.model as model
    import ckantoolkit as tk
    from sqlalchemy import select

    from ckanext.statrequest.model import Notification

    tag = f"{mode}{n_workers}-{os.getpid()}-{int(time.time())}"
    queue = f"bench-mail-{tag}"
    batch = args.batch_size if mode == "batch" else 0
    port = free_port()
    sink_log = WORK / f"sink-{tag}.jsonl"
    overrides = {"smtp.server": f"127.0.0.1:{port}", "ckanext.statrequest.notify.queue": queue,
                 "ckanext.statrequest.notify.batch_size": str(batch),
                 "ckanext.statrequest.notify.batch_threads": str(args.threads)}
    ini = WORK / f"{tag}.ini"
    ini.write_text(f"[app:main]\nuse = config:{run.INI}\n"
                   + "".join(f"{k} = {v}\n" for k, v in overrides.items()))
    tk.config.update(overrides)  # the producer (this process) enqueues the same way
    empty_outbox()
    sink = start_sink(port, sink_log, args.sink_delay)
    ckan = str(Path(sys.executable).with_name("ckan"))
    command = ["statrequest", "worker"] if args.worker_command == "statrequest" else [
        "jobs", "worker"]
    if args.kill_every and args.worker_command == "statrequest":
        # the killed job is taken up by the next registry clean-up once its heartbeat expired
        command += ["--maintenance-every", "20"]
    log = open(WORK / f"workers-{tag}.log", "w")  # noqa: SIM115 - workers are restarted

    def start_worker() -> subprocess.Popen[Any]:
        return subprocess.Popen([ckan, "-c", str(ini), *command, queue],
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    workers = [start_worker() for _ in range(n_workers)]
    kills: list[dict[str, Any]] = []
    try:
        workers_ready(queue, n_workers)
        print(f"[{mode}] {n_workers} workers ready; producing at {args.rate}/s for "
              f"{args.duration:.0f} s ...", flush=True)
        produced: list[int] = []
        samples: list[tuple[float, int]] = []
        paused = 0.0
        t0 = time.time()
        end = t0 + args.duration
        next_check, next_sample, backlog = 0.0, t0, 0
        threads = start_producers(args, request_id, tag, t0, end, produced)
        killer = start_killer(queue, workers, start_worker, args.kill_every, end, kills) \
            if args.kill_every else None
        while (now := time.time()) < end:
            if now >= next_check:
                backlog, next_check = unsent(), now + 0.5
                if now >= next_sample:
                    samples.append((now, backlog))
                    next_sample += 5
            if args.max_backlog and backlog >= args.max_backlog:
                time.sleep(0.05)
                paused += 0.05
                continue
            if not threads and len(produced) < args.rate * (now - t0):
                produced.append(produce_one(request_id, len(produced), tag))
                backlog += 1
            else:
                time.sleep(0.002)
        for thread in threads:
            thread.join()
        if killer is not None:
            killer.join()
        t1 = time.time()
        samples.append((t1, unsent()))
        print(f"[{mode}] produced {len(produced)}; draining {unsent()} ...", flush=True)
        deadline = time.monotonic() + args.drain_timeout
        while unsent() and time.monotonic() < deadline:
            time.sleep(0.5)
        left = unsent()
        drained = time.time()
        cpu_s = sum(cpu_seconds(w.pid) for w in workers)
    finally:
        stop(workers)
        stop([sink])
        log.close()
        clear_queue(queue)
    created = dict(model.Session.execute(
        select(Notification.id, Notification.created_at)).all())
    marked_sent = set(model.Session.scalars(
        select(Notification.id).where(Notification.sent_at.is_not(None))))
    model.Session.rollback()
    lines = [json.loads(x) for x in sink_log.read_text().splitlines() if x.strip()]
    seen = collections.Counter(x["message_id"] for x in lines)
    first: dict[int, float] = {}
    for x in lines:
        row_id = int(x["message_id"].split("-")[1].split("@")[0])
        first.setdefault(row_id, x["t"])
    in_window = sum(1 for x in lines if t0 <= x["t"] <= t1)
    latencies = sorted((first[i] - created[i].timestamp()) * 1000 for i in produced if i in first)
    result = {
        "mode": mode, "workers": n_workers, "worker_command": args.worker_command,
        "batch_size": batch, "threads": args.threads if batch else 1, "rate": args.rate,
        "duration_s": round(t1 - t0, 1), "produced": len(produced),
        "produced_per_s": round(len(produced) / (t1 - t0), 1),
        "producers": args.producers if not args.max_backlog else 1,
        "producer_paused_s": round(paused, 1),
        "backlog_max": max((b for _, b in samples), default=0),
        "backlog_end": samples[-1][1] if samples else 0,
        "backlog_trend_per_min": trend_per_min(samples),
        "backlog_samples": [[round(t - t0, 1), b] for t, b in samples],
        "delivered_in_window": in_window,
        "mails_per_s": round(in_window / (t1 - t0), 1),
        "delivered": len(first), "drain_s": round(drained - t1, 1), "unsent_at_end": left,
        # lost: marked sent, never reached the server; still unsent rows are not lost (the
        # flush sends them) but counted in unsent_at_end
        "lost": sum(1 for i in produced if i not in first and i in marked_sent),
        "not_delivered": sum(1 for i in produced if i not in first),
        "duplicated": sum(c - 1 for c in seen.values() if c > 1),
        "sink_delay_s": args.sink_delay, "kills": len(kills), "kill_times": [
            round(k["t"] - t0, 2) for k in kills],
        # a duplicate whose first copy reached the server at most 2 s before a kill
        "duplicates_near_a_kill": sum(
            1 for m, c in seen.items() if c > 1 and any(
                0 <= k["t"] - first[int(m.split("-")[1].split("@")[0])] <= 2 for k in kills)),
        "worker_cpu_ms_per_mail": round(1000 * cpu_s / len(lines), 1) if lines else None,
        "latency_ms_p50": round(statistics.median(latencies)) if latencies else None,
        "latency_ms_p95": round(latencies[int(0.95 * (len(latencies) - 1))]) if latencies
        else None,
    }
    print(f"[{mode}] {json.dumps(result)}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds of load per mode")
    parser.add_argument("--rate", type=float, default=100, help="emails offered per second")
    parser.add_argument("--workers", default="2",
                        help="worker processes; a list (1,2) runs each mode once per count")
    parser.add_argument("--worker-command", choices=("statrequest", "jobs"),
                        default="statrequest",
                        help="`ckan statrequest worker` (deploy/) or `ckan jobs worker`")
    parser.add_argument("--modes", default="jobs,batch", help="jobs, batch or both")
    parser.add_argument("--batch-size", type=int, default=200,
                        help="notify.batch_size of the batch mode")
    parser.add_argument("--producers", type=int, default=1,
                        help="producer threads sharing --rate (only with --max-backlog 0)")
    parser.add_argument("--threads", type=int, default=1,
                        help="notify.batch_threads of the batch mode (senders per job)")
    parser.add_argument("--max-backlog", type=int, default=300,
                        help="the producer pauses while this many emails wait; 0: never")
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--kill-every", type=float, default=0,
                        help="kill -9 a busy worker and its work horse about every S seconds")
    parser.add_argument("--sink-delay", type=float, default=0.0,
                        help="seconds the SMTP server takes per message (scale run: 0.2)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    run.use_port_variables()
    os.chdir(ROOT)
    WORK.mkdir(parents=True, exist_ok=True)
    print("migrating ckan_bench ...", flush=True)
    run.migrate()
    app = run.load_app()
    results = []
    with app._wsgi_app.test_request_context():
        request_id = any_request_id()
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            for n_workers in [int(w) for w in args.workers.split(",") if w.strip()]:
                results.append(run_mode(mode, args, request_id, n_workers))
    print()
    print(f"{'mode':<6} {'workers':>7} {'mails/s':>8} {'produced':>8} {'delivered':>9} "
          f"{'p50 ms':>7} {'p95 ms':>7} {'lost':>5} {'dup':>4} {'drain s':>7} "
          f"{'backlog max/end':>15} {'trend/min':>9} {'cpu ms':>6}")
    for r in results:
        backlog = f"{r['backlog_max']}/{r['backlog_end']}"
        print(f"{r['mode']:<6} {r['workers']:>7} {r['mails_per_s']:>8} {r['produced']:>8} "
              f"{r['delivered']:>9} {r['latency_ms_p50']!s:>7} {r['latency_ms_p95']!s:>7} "
              f"{r['lost']:>5} {r['duplicated']:>4} {r['drain_s']:>7} {backlog:>15} "
              f"{r['backlog_trend_per_min']!s:>9} {r['worker_cpu_ms_per_mail']!s:>6}")
        if r["kills"]:
            print(f"       kills {r['kills']}: duplicated {r['duplicated']} "
                  f"({r['duplicates_near_a_kill']} within 2 s of a kill)")
    if args.json:
        args.json.write_text(json.dumps({
            "when": dt.datetime.now(dt.timezone.utc).isoformat(), "cpus": os.cpu_count(),
            "load_average": os.getloadavg(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
