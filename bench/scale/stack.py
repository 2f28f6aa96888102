"""The portal in production shape on this machine, with processes we may stop and kill.

`Stack` owns everything it starts: a database of its own on the shared PostgreSQL (created and
dropped here), its own Redis, Solr and SMTP server on free loopback ports, gunicorn with
several CKAN web processes, and RQ job workers (`ckan jobs worker`) kept running by a small
supervisor, as systemd would. Every process runs in its own session (process group), so a
stop or a `kill -9` reaches its children too (gunicorn's workers, an RQ work horse), and
`close()` ends all of them, also after an error. The shared services of dev/services.sh are
only used for PostgreSQL, never stopped.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RUN = ROOT / ".run"
PG_PORT = int(os.environ.get("STATREQUEST_PG_PORT", "5432"))
# dev/test.sh points CKAN at the test services through CKAN's environment overrides; the
# processes of this stack have their own database, Redis and Solr, named in their ini.
_CKAN_OVERRIDES = ("CKAN_SQLALCHEMY_URL", "CKAN_SOLR_URL", "CKAN_REDIS_URL")


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CKAN_OVERRIDES}
    env.update(extra)
    return env
WORKDIR_PREFIX = "scale-"


class StackError(RuntimeError):
    pass


# Ports of the run's services: below Linux's ephemeral range (32768-60999), where the kernel
# never hands one out as the local port of an outgoing connection, so a service stopped by a
# fault gets its port back; 23000-32767 (SeaweedFS of nodes.py takes 12000-32003 with its gRPC
# ports +10000, 22xxx at most for the base).
PORT_RANGE = (23000, 32700)
_taken: set[int] = set()


def free_port() -> int:
    """A free loopback port in PORT_RANGE (bind-checked), not handed out before in this run."""
    import random

    for _ in range(500):
        port = random.randrange(*PORT_RANGE)  # noqa: S311 - a port, not a secret
        if port in _taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port
    raise StackError("no free port in the scale run's range")


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def http_ok(url: str, timeout: float = 3.0, headers: dict[str, str] | None = None) -> bool:
    try:
        req = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback http
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Service:
    """One long-running process in its own process group, output to a log file."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None
                 ) -> None:
        self.name, self.argv, self.log, self.env = name, argv, log, env
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> Service:
        if self.alive():
            return self
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = self.log.open("ab")
        try:
            self.popen = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=ROOT, env=child_env(**(self.env or {})), start_new_session=True)
        finally:
            out.close()
        self.starts += 1
        return self

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def _signal_group(self, sig: int) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the group, then SIGKILL to what is left."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        self._signal_group(signal.SIGKILL)  # stragglers (children) even if the leader exited
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)

    def kill9(self) -> None:
        """kill -9 of the whole group (the worker and its work horse): no clean-up at all."""
        self._signal_group(signal.SIGKILL)
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(10)

    def wait_ready(self, check: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            if not self.alive():
                raise StackError(f"{self.name} exited while starting:\n{tail(self.log)}")
            time.sleep(0.25)
        raise StackError(f"{self.name} did not become ready in {timeout:.0f} s:\n{tail(self.log)}")


class Stack:
    """See the module docstring. Use as a context manager, or call close() in a finally."""

    def __init__(self, tag: str, web_workers: int = 4, job_workers: int = 2,
                 smtp_delay: float = 0.2, retry_intervals: str = "60 300 900",
                 workdir: Path | None = None) -> None:
        self.tag = tag
        self.workdir = workdir or RUN / f"{WORKDIR_PREFIX}{tag}"
        self.db = db_name(tag)
        self.web_workers, self.job_workers = web_workers, job_workers
        self.smtp_delay = smtp_delay
        self.retry_intervals = retry_intervals
        self.ports = {"redis": free_port(), "solr": free_port(), "smtp": free_port(),
                      "web": free_port()}
        self.logs = self.workdir / "logs"
        self.ini = self.workdir / "scale.ini"
        self.storage = self.workdir / "storage"
        self.pki = self.workdir / "pki"
        self.sink_log = self.workdir / "smtp-sink.jsonl"
        self.redis: Service | None = None
        self.solr: Service | None = None
        self.smtp: Service | None = None
        self.web: Service | None = None
        self.workers: list[Service] = []
        self.events: list[dict[str, Any]] = []  # restarts and other notable things, timed
        self._supervise = threading.Event()
        self._paused: set[int] = set()
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None
        self.db_created = False

    # --- context -------------------------------------------------------------------------

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['web']}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.ports['redis']}/0"

    @property
    def db_url(self) -> str:
        return f"postgresql://ckan:ckan@127.0.0.1:{PG_PORT}/{self.db}"

    def note(self, what: str, **detail: Any) -> None:
        with self._lock:
            self.events.append({"t": time.time(), "what": what, **detail})

    # --- preparation ---------------------------------------------------------------------

    def prepare(self) -> None:
        reap_stale()
        owner = self.workdir / "owner.pid"
        with contextlib.suppress(OSError, ValueError):
            pid = int(owner.read_text())
            if pid != os.getpid() and psutil.pid_exists(pid):
                raise StackError(f"{self.workdir} belongs to a run in progress (pid {pid})")
        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        for sub in (self.logs, self.storage / "files", self.pki, self.workdir / "redis"):
            sub.mkdir(parents=True, exist_ok=True)
        (self.workdir / "owner.pid").write_text(str(os.getpid()))
        self.write_ini()
        self.create_db()

    def psql(self, sql: str, db: str = "postgres") -> str:
        return self.psql_static(sql, db)

    @staticmethod
    def psql_static(sql: str, db: str = "postgres") -> str:
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-d", db,
             "-v", "ON_ERROR_STOP=1", "-qtAc", sql],
            capture_output=True, text=True, check=False, timeout=120)
        if out.returncode != 0:
            raise StackError(f"psql failed ({sql[:80]}): {out.stderr.strip()}")
        return out.stdout.strip()

    def create_db(self) -> None:
        if not port_open(PG_PORT):
            raise StackError(f"PostgreSQL is not running on 127.0.0.1:{PG_PORT}; "
                             "start it with `bash dev/services.sh start`")
        self.psql(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        self.psql(f"CREATE DATABASE {self.db} OWNER ckan ENCODING 'UTF8'")
        self.db_created = True

    def drop_db(self) -> None:
        if self.db_created:
            with contextlib.suppress(StackError, subprocess.TimeoutExpired):
                self.psql(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
            self.db_created = False

    def write_ini(self) -> None:
        self.ini.write_text(INI_TEMPLATE.format(
            tag=self.tag, db_url=self.db_url, redis_url=self.redis_url,
            solr=self.ports["solr"], smtp=self.ports["smtp"], web=self.ports["web"],
            storage=self.storage, pki=self.pki, retry=self.retry_intervals,
        ))

    def ckan(self, *args: str, timeout: float = 600, check: bool = True
             ) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([str(BIN / "ckan"), "-c", str(self.ini), *args], cwd=ROOT,
                             env=child_env(), capture_output=True, text=True, check=False, timeout=timeout)
        if check and out.returncode != 0:
            raise StackError(f"ckan {' '.join(args)} failed:\n{out.stdout[-3000:]}\n"
                             f"{out.stderr[-3000:]}")
        return out

    def python(self, module: str, *args: str, timeout: float = 3600
               ) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT,
                             env=child_env(), capture_output=True, text=True, check=False, timeout=timeout)
        if out.returncode != 0:
            raise StackError(f"{module} failed:\n{out.stdout[-3000:]}\n{out.stderr[-5000:]}")
        return out

    def migrate(self) -> None:
        self.ckan("db", "upgrade")

    def init_pki(self) -> None:
        self.ckan("statrequest", "init-test-pki", "--dir", str(self.pki))

    # --- Redis ---------------------------------------------------------------------------

    def start_redis(self) -> None:
        port = self.ports["redis"]
        # no persistence: a restart loses every queued job, the harshest case for the outbox
        self.redis = Service("redis", [
            "redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
            "--appendonly", "no", "--dir", str(self.workdir / "redis"), "--daemonize", "no",
        ], self.logs / "redis.log")
        self.redis.start().wait_ready(lambda: _redis_ping(port), 20)

    def stop_redis(self) -> None:
        if self.redis:
            self.redis.stop()

    # --- Solr ----------------------------------------------------------------------------

    def solr_home(self) -> Path:
        home = self.workdir / "solr" / "home"
        conf = home / "ckan" / "conf"
        if conf.exists():
            return home
        import ckan

        schema = Path(ckan.__file__).parent / "config" / "solr" / "schema.xml"
        conf.mkdir(parents=True)
        (home / "solr.xml").write_text("<solr></solr>\n")
        (home / "ckan" / "core.properties").write_text("name=ckan\n")
        shutil.copy(schema, conf / "schema.xml")
        shutil.copy(ROOT / "dev" / "solr" / "conf" / "solrconfig.xml", conf / "solrconfig.xml")
        for name in ("synonyms.txt", "protwords.txt"):
            (conf / name).touch()
        return home

    def start_solr(self, timeout: float = 120) -> None:
        classpath = RUN / "solr" / "classpath.txt"
        classes = ROOT / "dev" / "solr" / "target" / "classes"
        if not classpath.exists() or not (classes / "statrequest" / "CkanSolr.class").exists():
            raise StackError("Solr is not built; run `bash dev/services.sh start` once")
        port = self.ports["solr"]
        self.solr = Service("solr", [
            "java", "-Xms128m", "-Xmx512m", f"-Dsolr.log.dir={self.workdir / 'solr'}",
            f"-Dsolr.install.dir={self.workdir / 'solr'}",
            "-cp", f"{classes}:{classpath.read_text().strip()}", "statrequest.CkanSolr",
            str(self.solr_home()), str(port),
        ], self.logs / "solr.log")
        self.solr.start().wait_ready(
            lambda: http_ok(f"http://127.0.0.1:{port}/solr/ckan/select?q=*:*&rows=0&wt=json"),
            timeout)

    def stop_solr(self) -> None:
        if self.solr:
            self.solr.stop()

    # --- SMTP ----------------------------------------------------------------------------

    def start_smtp(self) -> None:
        port = self.ports["smtp"]
        self.smtp = Service("smtp", [
            sys.executable, "-m", "bench.scale.smtpsink", "--port", str(port),
            "--log", str(self.sink_log), "--delay", str(self.smtp_delay),
        ], self.logs / "smtp.log")
        self.smtp.start().wait_ready(lambda: port_open(port), 20)

    def stop_smtp(self) -> None:
        if self.smtp:
            self.smtp.stop()

    # --- web -----------------------------------------------------------------------------

    def start_web(self, timeout: float = 180) -> None:
        # the shipped settings (deploy/gunicorn.conf.py: deploy/wsgi.py, timeouts,
        # max_requests), with this run's address, process count and ini from the command line
        self.web = Service("gunicorn", [
            str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--workers", str(self.web_workers), "--bind", f"127.0.0.1:{self.ports['web']}",
            "--graceful-timeout", "10", "--env", f"CKAN_INI={self.ini}",
            "--chdir", str(ROOT), "--error-logfile", "-", "--log-level", "warning",
            "--name", f"scale-{self.tag}",
        ], self.logs / "gunicorn.log")
        self.web.start()

        def ready() -> bool:
            return (len(self.web_pids()) >= self.web_workers
                    and http_ok(f"{self.url}/api/3/action/status_show", timeout=10))

        self.web.wait_ready(ready, timeout)
        # every worker must have loaded CKAN: warm them with a few requests
        for _ in range(self.web_workers * 3):
            http_ok(f"{self.url}/api/3/action/status_show", timeout=30)

    def web_pids(self) -> list[int]:
        """The gunicorn worker processes (children of the master)."""
        if not self.web or not self.web.alive():
            return []
        with contextlib.suppress(psutil.Error):
            return [c.pid for c in psutil.Process(self.web.pid).children()]
        return []

    # --- job workers ---------------------------------------------------------------------

    def _worker(self, n: int) -> Service:
        # the extension's worker: CKAN's, plus a registry clean-up every 20 s that queues
        # again the job a killed worker left "started" (commands/worker.py)
        return Service(f"worker{n}", [str(BIN / "ckan"), "-c", str(self.ini), "statrequest",
                                      "worker", "--maintenance-every", "20"],
                       self.logs / f"worker{n}.log")

    def start_workers(self) -> None:
        self.workers = [self._worker(n).start() for n in range(self.job_workers)]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(self.rq_workers()) < self.job_workers:
            for w in self.workers:
                if not w.alive():
                    raise StackError(f"{w.name} exited while starting:\n{tail(w.log)}")
            time.sleep(0.5)
        self._supervise.set()
        self._supervisor = threading.Thread(target=self._supervise_workers, daemon=True,
                                            name="scale-supervisor")
        self._supervisor.start()

    def rq_workers(self) -> list[dict[str, Any]]:
        """The workers registered in Redis, with their state and current job."""
        import redis

        try:
            conn = redis.Redis.from_url(self.redis_url, socket_timeout=2)
            out = []
            for key in conn.smembers("rq:workers"):
                data = {k.decode(): v.decode(errors="replace")
                        for k, v in conn.hgetall(key).items()}
                data["key"] = key.decode()
                out.append(data)
            return out
        except redis.RedisError:
            return []

    def _supervise_workers(self) -> None:
        """Restart a worker that died (like systemd's Restart=always, 2 s later)."""
        while self._supervise.is_set():
            for n, w in enumerate(self.workers):
                if n in self._paused or w.alive():
                    continue
                code = w.popen.returncode if w.popen else None
                time.sleep(2)
                if not self._supervise.is_set():
                    return
                self.workers[n] = self._worker(n).start()
                self.note("worker restarted by the supervisor", worker=n, exit_code=code)
            time.sleep(0.5)

    def busy_worker(self) -> tuple[int, Service, int] | None:
        """A job worker with a work horse (a job in progress): (index, service, horse pid)."""
        for n, w in enumerate(self.workers):
            if not w.alive():
                continue
            with contextlib.suppress(psutil.Error):
                children = psutil.Process(w.pid).children()
                if children:
                    return n, w, children[0].pid
        return None

    # --- the end ---------------------------------------------------------------------------

    def close(self, drop: bool = True) -> None:
        self._supervise.clear()
        if self._supervisor is not None:
            self._supervisor.join(5)
        for service in [self.web, *self.workers, self.smtp, self.solr, self.redis]:
            if service is not None:
                with contextlib.suppress(Exception):
                    service.stop(timeout=10)
        if drop:
            self.drop_db()
        with contextlib.suppress(OSError):
            (self.workdir / "owner.pid").unlink()

    def describe(self) -> dict[str, Any]:
        return {"tag": self.tag, "db": self.db, "ports": self.ports, "ini": str(self.ini),
                "workdir": str(self.workdir), "web_workers": self.web_workers,
                "job_workers": self.job_workers}

    def save_description(self) -> None:
        (self.workdir / "stack.json").write_text(json.dumps(self.describe(), indent=2))


def queued_jobs(conn: Any) -> int:
    """Jobs waiting in every RQ queue of a Redis connection."""
    return sum(conn.llen(k) for k in conn.keys("rq:queue:*") if conn.type(k) == b"list")


def _redis_ping(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=port, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def reap_stale() -> None:
    """Clean up after an earlier run whose orchestrator died without doing so: kill the
    processes whose command line names its work directory, drop its database, and remove
    the work directory of a test run (others are kept for their logs)."""
    if not RUN.exists():
        return
    stale = []
    for workdir in RUN.glob(f"{WORKDIR_PREFIX}*"):
        owner = workdir / "owner.pid"
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            if workdir.name.startswith(f"{WORKDIR_PREFIX}pytest"):  # a finished test run
                shutil.rmtree(workdir, ignore_errors=True)
            continue
        if pid != os.getpid() and psutil.pid_exists(pid):
            continue  # another run in progress
        stale.append(workdir)
        owner.unlink(missing_ok=True)
    if not stale:
        return
    names = [str(w) for w in stale]
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            text = " ".join(proc.info["cmdline"] or [])
            if any(w in text for w in names):
                proc.kill()
        except psutil.Error:
            continue
    for workdir in stale:
        tag = workdir.name[len(WORKDIR_PREFIX):]
        with contextlib.suppress(StackError, subprocess.TimeoutExpired, OSError):
            Stack.psql_static(f"DROP DATABASE IF EXISTS {db_name(tag)} WITH (FORCE)")
        if tag.startswith("pytest"):
            shutil.rmtree(workdir, ignore_errors=True)


def db_name(tag: str) -> str:
    return f"ckan_scale_{tag}".replace("-", "_")


INI_TEMPLATE = """\
# Written by bench/scale/stack.py for one scale run; see bench/scale/README.md.
[DEFAULT]
debug = false

[app:main]
use = egg:ckan
SECRET_KEY = statrequest-scale-{tag}-not-for-production
sqlalchemy.url = {db_url}
solr_url = http://127.0.0.1:{solr}/solr/ckan
ckan.redis.url = {redis_url}
ckan.site_id = statrequest-scale-{tag}
ckan.site_url = http://127.0.0.1:{web}
apitoken_header_name = Authorization
ckan.plugins = activity statrequest
ckan.views.default_views =
ckan.locale_default = id
ckan.locales_offered = id en
ckan.auth.create_user_via_api = false
smtp.server = 127.0.0.1:{smtp}
smtp.mail_from = portal@satudata.test
ckan.jobs.timeout = 180
ckan.storage_path = {storage}
ckan.files.default_storages.default = statrequest_scale
ckan.files.storage.statrequest_scale.type = ckan:fs
ckan.files.storage.statrequest_scale.path = {storage}/files
ckan.files.storage.statrequest_scale.initialize = true

ckanext.statrequest.diskominfo_org = diskominfo
ckanext.statrequest.signing.pki_dir = {pki}
ckanext.statrequest.personal_data_key = ujTgEwMoiPEMxM0fcp3hhq0P2zj7pYaWCJ85t6FYdzg=
ckanext.statrequest.notify.retry_intervals = {retry}
; production's mail settings (deploy/README.md): one job sends up to 400 due emails over
; four SMTP connections, instead of one job (a fork and an environment load) per email
ckanext.statrequest.notify.batch_size = 400
ckanext.statrequest.notify.batch_threads = 4
; thirty test accounts submit hundreds of requests an hour
ckanext.statrequest.limit.user_per_hour = 0
ckanext.statrequest.limit.user_per_day = 0
ckanext.statrequest.limit.ip_per_hour = 0
ckanext.statrequest.limit.ip_per_day = 0
; every simulated citizen comes from 127.0.0.1: no per-address limits on look-ups
ckanext.statrequest.limit.verify_per_minute = 0
ckanext.statrequest.limit.verify_per_hour = 0
ckanext.statrequest.limit.track_per_minute = 0
ckanext.statrequest.limit.track_per_hour = 0
; letters are verified under full load: a generous clock, hostile files are not part of this run
ckanext.statrequest.verify.wall_seconds = 60
ckanext.statrequest.verify.cpu_seconds = 30

[loggers]
keys = root, ckan, ckanext, rq

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console

[logger_ckan]
qualname = ckan
handlers =
level = WARN

[logger_ckanext]
qualname = ckanext
handlers =
level = WARN

[logger_rq]
qualname = rq
handlers =
level = WARN

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(process)d %(levelname)-5.5s [%(name)s] %(message)s
"""
