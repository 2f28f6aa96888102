"""Proof at scale: the portal under a production WSGI server and job workers, a mixed load,
faults injected during it, and an invariant checker afterwards. See bench/scale/README.md.

    .venv/bin/python bench/scale/run.py --full     # 100k requests, ~12 min of load
    .venv/bin/python bench/scale/run.py --short    # what `make test` runs (~3-4 min in all)

Needs the shared PostgreSQL of `bash dev/services.sh start` (and Solr built by it once);
everything else (Redis, Solr, SMTP, gunicorn, workers, its database) is started here on free
loopback ports and stopped again at the end, also on failure or Ctrl-C.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

if __package__ in (None, ""):  # run as a script: make `bench.scale` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.scale import faults as faults_mod  # noqa: E402
from bench.scale import report  # noqa: E402
from bench.scale import stack as stack_mod  # noqa: E402
from bench.scale.stack import BIN, ROOT, Stack, StackError, queued_jobs  # noqa: E402

RESULTS = ROOT / "bench" / "results"

# (offset from the start of the load in s, fault, argument)
PROFILES: dict[str, dict[str, Any]] = {
    "full": {
        "seed": 100_000, "duration": 720, "warmup": 60, "grace": 30,
        "users": {"requesters": 8, "opd_count": 3, "verifiers": 2, "wait": [1.0, 3.0]},
        "plan": [(300, "kill_worker", None), (340, "smtp", 60.0), (440, "redis", 5.0),
                 (500, "solr", 30.0), (580, "web", None)],
        "prelude": 16, "cron_interval": 60, "flush_min_age_minutes": 5, "drain_timeout": 900,
        "retry_intervals": "60 300 900", "smtp_delay": 0.2,
    },
    "short": {
        "seed": 300, "duration": 105, "warmup": 10, "grace": 8,
        "users": {"requesters": 5, "opd_count": 3, "verifiers": 1, "wait": [0.5, 2.0]},
        "plan": [(30, "kill_worker", None), (40, "smtp", 12.0), (58, "redis", 2.0),
                 (65, "solr", 8.0), (88, "web", None)],
        "prelude": 6, "cron_interval": 20, "flush_min_age_minutes": 1, "drain_timeout": 150,
        "retry_intervals": "5 15 30", "smtp_delay": 0.2,
    },
}
# `--nodes 2` (bench/scale/nodes.py): two web nodes on an object store, and two more faults
NODE_FAULTS: dict[str, dict[str, Any]] = {
    "full": {"duration": 840, "plan": [(640, "kill_node", None), (650, "object_store", 30.0)]},
    # node A is killed while uploads run through it and starts again in the background; the
    # store goes down meanwhile (node A and node B's killed web processes boot without it);
    # then a worker is killed once more, now that the Redis restart that wiped the first
    # killed job's state is over: its job must be taken up by the next registry clean-up
    "short": {"duration": 240, "plan": [(95, "kill_node", None), (100, "object_store", 30.0),
                                        (140, "kill_worker", None)]},
}
OFFICIALS = ["sekretaris", "sekretaris", "kadis", "kabid", "kasi", "kasi",
             "staf1", "staf2", "staf3", "staf4"]


def log(message: str) -> None:
    print(f"[scale {dt.datetime.now():%H:%M:%S}] {message}", flush=True)


# --- the cron of a production portal, and the drain -------------------------------------------

class Cron(threading.Thread):
    """What cron runs on a portal (notifications-flush, deliver --pending), every N s, sent
    to one resident process (bench/scale/cron.py) that calls the same code as the commands."""

    def __init__(self, stack: Stack, interval: float, min_age: int) -> None:
        super().__init__(daemon=True, name="scale-cron")
        self.stack, self.interval, self.min_age = stack, interval, min_age
        self.runs: list[dict[str, Any]] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.log = (stack.logs / "cron.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.scale.cron", "--ini", str(stack.ini)], cwd=ROOT,
            env=stack_mod.child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            start_new_session=True)
        self.ready = False

    def call(self, command: str, timeout: float = 300) -> dict[str, Any]:
        import select

        assert self.proc.stdin is not None and self.proc.stdout is not None
        with self.lock:
            if not self.ready:
                self.ready = bool(self._read(timeout))
            self.proc.stdin.write((command + "\n").encode())
            self.proc.stdin.flush()
            ready, _w, _x = select.select([self.proc.stdout], [], [], timeout)
            if not ready:
                return {"error": "timeout"}
            return self._read(timeout)

    def _read(self, timeout: float) -> dict[str, Any]:
        import select

        assert self.proc.stdout is not None
        ready, _w, _x = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            raise StackError(f"the cron process stopped; see {self.stack.logs / 'cron.log'}")
        return json.loads(line)

    def once(self, min_age: int | None = None) -> dict[str, Any]:
        started = time.time()
        age = self.min_age if min_age is None else min_age
        out: dict[str, Any] = {"t": started, "flush": self.call(f"flush {age}"),
                               "deliver": self.call("deliver")}
        out["seconds"] = round(time.time() - started, 1)
        self.runs.append(out)
        return out

    @property
    def deliver(self) -> bool:
        return any("skipped" not in r.get("deliver", {}) for r in self.runs) if self.runs \
            else True

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.once()

    def close(self) -> None:
        self.stop.set()
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def outstanding(stack: Stack, deliver: bool) -> dict[str, int]:
    """What is still to be done by jobs: queued jobs, unsent emails, undelivered requests."""
    import psycopg2
    import redis

    result = {"queued": -1, "unsent": -1, "undelivered": 0}
    with contextlib.suppress(redis.RedisError):
        conn = redis.Redis.from_url(stack.redis_url, socket_timeout=2)
        result["queued"] = queued_jobs(conn)
    db = psycopg2.connect(stack.db_url)
    try:
        with db.cursor() as cur:
            cur.execute("SELECT to_regclass('statrequest_notification')")
            if cur.fetchone()[0]:
                cur.execute("SELECT count(*) FROM statrequest_notification WHERE sent_at IS NULL")
                result["unsent"] = cur.fetchone()[0]
            else:
                result["unsent"] = 0
            if deliver:
                cur.execute(
                    "SELECT count(*) FROM statrequest_request r JOIN statrequest_attachment a "
                    "ON a.id = r.letter_attachment_id WHERE r.delivered_package_id IS NULL "
                    "AND r.state = 'selesai' AND a.kind = 'signed_reply' AND a.deleted_at IS NULL")
                result["undelivered"] = cur.fetchone()[0]
    finally:
        db.close()
    return result


def job_counts(stack: Stack) -> str:
    """Jobs the workers ran (from their logs) against the emails in the outbox."""
    import psycopg2

    ran: dict[str, int] = {}
    for path in stack.logs.glob("worker*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if "Successfully completed" in line:
                name = line.split("Successfully completed ", 1)[1].split("(", 1)[0]
                ran[name.rsplit(".", 1)[-1]] = ran.get(name.rsplit(".", 1)[-1], 0) + 1
    db = psycopg2.connect(stack.db_url)
    try:
        with db.cursor() as cur:
            cur.execute("SELECT count(*) FROM statrequest_notification")
            emails = cur.fetchone()[0]
    except psycopg2.Error:
        emails = -1
    finally:
        db.close()
    return f"jobs run by the workers: {ran}; emails in the outbox: {emails}"


def drain(stack: Stack, cron: Cron, timeout: float) -> list[str]:
    """After the load: flush and deliver (as cron would) and let the workers run until no
    email is unsent and no finished request undelivered. Flushed again only when the queue
    is empty (a queued duplicate finds its work done, but costs a worker a job)."""
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    cron.once(min_age=0)
    rounds, idle_since = 1, None
    while time.monotonic() < deadline:
        left = outstanding(stack, cron.deliver)
        if left["unsent"] == 0 and left["undelivered"] == 0:
            return [f"drained in {time.monotonic() - started:.0f} s with {rounds} "
                    f"flush/deliver round(s): {left}"]
        if left["queued"] == 0:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > 10:
                cron.once(min_age=0)
                rounds, idle_since = rounds + 1, None
        else:
            idle_since = None
        time.sleep(1)
    return [f"NOT drained within {timeout:.0f} s: {outstanding(stack, cron.deliver)}"]


# --- CPU accounting ---------------------------------------------------------------------------

class CpuSampler(threading.Thread):
    """CPU seconds per component (ours and everything else on the machine), every 2 s."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True, name="scale-cpu")
        self.stack = stack
        self.totals: dict[str, float] = {}
        self.last: dict[int, float] = {}
        self.stop = threading.Event()
        self.machine0 = psutil.cpu_times()

    def classify(self, cmdline: str) -> str:
        w = str(self.stack.workdir)
        if "bench.scale.balancer" in cmdline and w in cmdline:
            return "load balancer (two nodes)"
        if "weed" in cmdline and w in cmdline:
            return "object store (SeaweedFS)"
        if "gunicorn" in cmdline and w in cmdline:
            return "gunicorn (web)"
        if "jobs worker" in cmdline and w in cmdline:
            return "rq workers"
        if w in cmdline and "statrequest" in cmdline:
            return "cron (ckan statrequest ...)"
        if "locust" in cmdline:
            return "locust (load generator)"
        if "CkanSolr" in cmdline and w in cmdline:
            return "solr"
        if "redis-server" in cmdline and str(self.stack.ports["redis"]) in cmdline:
            return "redis"
        if "smtpsink" in cmdline and w in cmdline:
            return "smtp sink"
        if cmdline.startswith("postgres:") and self.stack.db in cmdline:
            return "postgresql (our database)"
        return "other processes (not this run)"

    def sample(self) -> None:
        for proc in psutil.process_iter(["pid", "cmdline", "cpu_times", "name"]):
            try:
                times = proc.info["cpu_times"]
                if times is None:
                    continue
                total = times.user + times.system
                cmd = " ".join(proc.info["cmdline"] or []) or (proc.info["name"] or "")
            except psutil.Error:
                continue
            before = self.last.get(proc.pid)
            self.last[proc.pid] = total
            if before is None or total < before:
                continue
            key = self.classify(cmd)
            self.totals[key] = self.totals.get(key, 0.0) + total - before

    def run(self) -> None:
        self.sample()
        while not self.stop.wait(2):
            self.sample()

    def result(self) -> dict[str, float]:
        now = psutil.cpu_times()
        busy = sum(getattr(now, f) - getattr(self.machine0, f)
                   for f in ("user", "system", "nice", "irq", "softirq"))
        return {**{k: round(v, 1) for k, v in self.totals.items()},
                "machine total (all cores, busy)": round(busy, 1)}


# --- the run ------------------------------------------------------------------------------------

def start_stack(stack: Stack, profile: dict[str, Any], out: Path) -> tuple[dict[str, Any], Cron]:
    """Everything up, seeded, and the cron process loaded; the order overlaps slow steps."""
    t0 = time.monotonic()
    stack.prepare()
    if profile.get("nodes", 1) > 1:
        from bench.scale import nodes as nodes_mod

        log("starting the object store (SeaweedFS) for two web nodes ...")
        stack.nodes = nodes_mod.Nodes(stack)  # type: ignore[attr-defined]
        stack.nodes.build()
        stack.nodes.start_store()
        stack.nodes.use_store()
        nodes_mod.register_faults()
    stack.start_redis()
    stack.start_smtp()
    out.mkdir(parents=True, exist_ok=True)
    solr_error: list[BaseException] = []

    def start_solr() -> None:
        try:
            stack.start_solr()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            solr_error.append(exc)

    solr = threading.Thread(target=start_solr, name="solr-start")
    solr.start()
    log(f"migrating {stack.db} (Solr starting meanwhile) ...")
    stack.migrate()
    # build the web assets once, as a deployment does: four fresh processes building them at
    # their first page race on the same directory (CKAN core: FileExistsError, HTTP 500)
    assets = subprocess.Popen([str(BIN / "ckan"), "-c", str(stack.ini), "asset", "build"],
                              cwd=ROOT, env=stack_mod.child_env(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.STDOUT)
    solr.join()
    if solr_error:
        raise solr_error[0]
    log(f"seeding {profile['seed']:,} historical requests, then {profile['prelude']} requests "
        "through the real actions ...")
    seeded = stack.python(
        "bench.scale.setup_data", "--ini", str(stack.ini), "--requests", str(profile["seed"]),
        "--out", str(out / "run-config.json"), "--prelude", str(profile["prelude"]),
        "--opd-count", str(profile["users"]["opd_count"]), "--acks", str(out / "acks.jsonl"),
        "--pki", str(stack.pki))
    log(f"  {seeded.stdout.strip().splitlines()[-1]}")
    assets.wait(300)
    log(f"starting gunicorn ({stack.web_workers} workers), {stack.job_workers} job workers "
        "and the cron process ...")
    cron = Cron(stack, profile["cron_interval"], profile["flush_min_age_minutes"])
    if getattr(stack, "nodes", None) is not None:
        stack.nodes.start()  # two gunicorn nodes behind the balancer on the web port
    else:
        stack.start_web()
    stack.start_workers()
    cron.call("flush 5")  # waits until it is loaded; sends nothing young
    stack.save_description()
    log(f"stack ready in {time.monotonic() - t0:.0f} s at {stack.url}")
    return json.loads((out / "run-config.json").read_text()), cron


def run_load(stack: Stack, profile: dict[str, Any], out: Path, cron: Cron
             ) -> tuple[float, float, list[dict[str, Any]], int]:
    """Locust for the profile's duration, the faults and the cron on the side. The clock
    starts with the first HTTP call (Locust needs a few seconds to start)."""
    users = profile["users"]
    count = users["requesters"] + len(OFFICIALS) + users["opd_count"] + users["verifiers"]
    env = {**stack_mod.child_env(), "SCALE_CONFIG": str(out / "run-config.json"), "SCALE_OUT": str(out),
           "SCALE_PROFILE": json.dumps({**users, "officials": OFFICIALS}),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    argv = [str(BIN / "locust"), "-f", str(ROOT / "bench" / "scale" / "locustfile.py"),
            "--headless", "-u", str(count), "-r", str(count), "-t", f"{profile['duration']}s",
            "--stop-timeout", "90", "--host", stack.url, "--csv", str(out / "locust"),
            "--only-summary", "--loglevel", "WARNING"]
    log(f"load: {count} users for {profile['duration']} s; faults at "
        + ", ".join(f"+{o:.0f}s {k}" for o, k, _a in profile["plan"]))
    samples = out / "samples.csv"
    logfile = (out / "locust.log").open("wb")
    locust = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT,
                              start_new_session=True)
    injector = faults_mod.Injector(stack, profile["plan"], 0.0)
    t0 = time.time()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and locust.poll() is None and not (
                samples.exists() and samples.stat().st_size > 0):
            time.sleep(0.1)
        if locust.poll() is not None:
            raise StackError(f"locust exited at start:\n{(out / 'locust.log').read_text()[-3000:]}")
        t0 = time.time()
        injector.t0 = t0
        injector.start()
        cron.start()
        try:
            locust.wait(timeout=profile["duration"] + 300)
        except subprocess.TimeoutExpired:
            log("locust did not stop in time; killing it")
    finally:
        if locust.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(locust.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                locust.wait(20)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(locust.pid, signal.SIGKILL)
        logfile.close()
        injector.stop.set()
        if injector.is_alive():
            injector.join(300)
        cron.stop.set()
        if cron.is_alive():
            cron.join(300)
    return t0, time.time(), injector.done, count


def heal(stack: Stack) -> list[str]:
    """Every service up again (a fault that failed half-way must not fail the checks)."""
    notes = []
    for name, service, start in (("redis", stack.redis, stack.start_redis),
                                 ("solr", stack.solr, stack.start_solr),
                                 ("smtp", stack.smtp, stack.start_smtp)):
        if service is None or not service.alive():
            start()
            notes.append(f"{name} was down after the load; started")
    if getattr(stack, "nodes", None) is not None:
        notes += stack.nodes.heal()
    return notes


def execute(profile_name: str, overrides: dict[str, Any] | None = None, keep: bool = False,
            tag: str | None = None) -> dict[str, Any]:
    profile = {**PROFILES[profile_name], **(overrides or {})}
    if profile.get("nodes", 1) > 1:
        extra = NODE_FAULTS[profile_name]
        profile["plan"] = sorted([*profile["plan"], *extra["plan"]])
        if "duration" not in (overrides or {}):
            profile["duration"] = extra["duration"]
    tag = tag or f"{profile_name}-{os.getpid()}"
    stack = Stack(tag, retry_intervals=profile["retry_intervals"],
                  smtp_delay=profile["smtp_delay"])
    out = stack.workdir / "out"
    started = dt.datetime.now(dt.timezone.utc)
    result: dict[str, Any] = {"profile": profile_name, "started": started.isoformat(),
                              "settings": {k: v for k, v in profile.items()},
                              "machine": f"{platform.platform()}, {os.cpu_count()} CPUs"}
    cron: Cron | None = None
    try:
        config, cron = start_stack(stack, profile, out)
        result["seed"] = config.get("seeded", {})
        result["prelude"] = config.get("prelude", {})
        result["stack"] = stack.describe()
        sampler = CpuSampler(stack)
        sampler.start()
        t0, end, done, users = run_load(stack, profile, out, cron)
        sampler.stop.set()
        sampler.join(10)
        result["cpu"] = sampler.result()
        result["load"] = {"users": users, "duration": profile["duration"],
                          "warmup": profile["warmup"], "t0": t0, "end": end}
        result["faults"] = done
        log("load finished; healing and draining the queues ...")
        recovery = heal(stack)
        recovery += drain(stack, cron, profile["drain_timeout"])
        recovery += [f"cron at +{r['t'] - t0:.0f}s ({r['seconds']} s): flush {r['flush']}, "
                     f"deliver {r['deliver']}" for r in cron.runs]
        recovery += [f"{e['what']} at +{e['t'] - t0:.0f}s"
                     + (f" (exit code {e.get('exit_code')})" if "exit_code" in e else "")
                     for e in stack.events if not e["what"].startswith("fault")]
        recovery.append(job_counts(stack))
        result["recovery"] = recovery
        log("checking invariants ...")
        (out / "faults.json").write_text(json.dumps(done, default=str))
        check = subprocess.run(
            [sys.executable, "-m", "bench.scale.checker", "--ini", str(stack.ini),
             "--run-config", str(out / "run-config.json"), "--acks", str(out / "acks.jsonl"),
             "--sink", str(stack.sink_log), "--faults", str(out / "faults.json"),
             "--out", str(out / "check.json")],
            cwd=ROOT, env=stack_mod.child_env(), capture_output=True, text=True, check=False,
            timeout=3600)
        if (out / "check.json").exists():
            result["checker"] = json.loads((out / "check.json").read_text())
        else:
            result["checker"] = {"ok": False, "lines": [check.stdout[-3000:],
                                                        check.stderr[-5000:]]}
        if getattr(stack, "nodes", None) is not None:
            from bench.scale import nodes as nodes_mod

            log("cross-node check: upload through node A, download through node B ...")
            try:
                result["cross_node"] = nodes_mod.cross_check(stack, config)
            except Exception as exc:  # noqa: BLE001 - reported as a failure
                result["cross_node"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            result["nodes"] = stack.nodes.describe()
        samples = report.load_samples(out / "samples.csv")
        windows = report.phases(t0, end, profile["warmup"], done, profile["grace"])
        result["phases"] = {name: report.stats(samples, w) for name, w in windows.items()}
        result["fault_windows"] = report.fault_windows(samples, done, profile["grace"])
        return result
    finally:
        if cron is not None:
            cron.close()
        if getattr(stack, "nodes", None) is not None:
            stack.nodes.close()  # the balancer and both nodes
        stack.close(drop=not keep)
        if getattr(stack, "nodes", None) is not None:
            stack.nodes.stop_store()  # last: the workers load their storage until they stop
        save(result, stack, out)


def save(result: dict[str, Any], stack: Stack, out: Path) -> None:
    if "phases" not in result:
        return
    text = report.render(result)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(exist_ok=True)
    name = f"scale-{result['profile']}-{stamp}"
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, default=str))
    (RESULTS / f"{name}.md").write_text(text)
    result["report_path"] = str(RESULTS / f"{name}.md")
    with contextlib.suppress(OSError):
        shutil.copy(RESULTS / f"{name}.md", out / "report.md")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--full", action="store_true", help="100k requests, ~12 min of load")
    which.add_argument("--short", action="store_true", help="the CI version (default)")
    parser.add_argument("--seed", type=int, help="historical requests to seed")
    parser.add_argument("--duration", type=int, help="seconds of load")
    parser.add_argument("--keep", action="store_true",
                        help="keep the database (the work directory is always kept)")
    parser.add_argument("--tag", help="name of the run: its work directory is .run/scale-<tag>")
    parser.add_argument("--nodes", type=int, choices=(1, 2),
                        help="2: two web nodes behind a balancer, files on an object store "
                             "(SeaweedFS), two more faults (bench/scale/nodes.py)")
    parser.add_argument("--json", type=Path,
                        help="also write the whole result here as JSON (what the test suite reads)")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("seed", args.seed), ("duration", args.duration),
                                   ("nodes", args.nodes)) if v is not None}

    def stop(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    result = execute("full" if args.full else "short", overrides, keep=args.keep, tag=args.tag)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    print(report.render(result))
    print(f"\nreport: {result.get('report_path')}")
    return 0 if result["checker"].get("ok") and result.get("cross_node", {"ok": True})["ok"] \
        else 1


if __name__ == "__main__":
    sys.exit(main())
