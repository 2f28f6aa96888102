"""Two web nodes sharing an object store: the `--nodes 2` shape of the scale run.

- **Object store**: a SeaweedFS server (`weed server -s3`, built once by dev/seaweedfs.sh into
  .run/bin/weed) on free loopback ports, its data under the run's work directory. The run's
  ini gets a `statrequest:s3` storage on it as CKAN's default file storage (file-keeper's S3
  storage that lets a process start while the store is down, ckanext/statrequest/lib/
  objectstore.py), so attachments,
  letters and the delivered datasets' resources of every process go there.
- **Nodes**: two gunicorn masters (A and B), each with half the web processes, each with an
  ini and a `ckan.storage_path` of its own (nothing on disk is shared), behind
  `bench/scale/balancer.py` on the run's web port (what Locust and the checks call).
- **Faults** (registered in `faults.FAULTS`): `object_store` (weed stopped for N seconds,
  then started again on the same data) and `kill_node` (SIGKILL of node A's whole process
  group while a submission with files is under way through it, then node A started again).
- **Cross-node check** (`cross_check`, after the load): a file submitted through node A
  downloads from node B byte for byte; a step fired on node A is seen by node B at once.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from bench.scale.stack import BIN, ROOT, Service, Stack, StackError, free_port, http_ok

WEED = ROOT / ".run" / "bin" / "weed"
SCRIPT = ROOT / "dev" / "seaweedfs.sh"
ACCESS_KEY, SECRET_KEY = "statrequest", "statrequest-secret"  # dev/seaweedfs.sh
BUCKET = "statrequest"
STORAGE = "statrequest_scale"  # the storage name of stack.INI_TEMPLATE, now on S3


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _weed_base() -> int:
    """Ports below Linux's ephemeral range (32768-60999): the store is restarted by a fault,
    and a port in that range may meanwhile be taken as the local port of any connection."""
    import random

    from bench.scale import stack as stack_mod

    for _ in range(200):
        base = random.randrange(12000, 22000)  # noqa: S311 - a port, not a secret
        ports = [base + i for i in range(4)] + [base + 10000 + i for i in range(4)]
        # the gRPC ports share 23000-32700 with the run's other services (stack.free_port),
        # which are picked before any of them binds: skip those handed out already
        if all(p not in stack_mod._taken and _free(p) for p in ports):
            stack_mod._taken.update(ports)
            return base
    raise StackError("no free port range for SeaweedFS")


class Nodes:
    """The object store, the two nodes and the balancer of one run (kept on `stack.nodes`)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.weed_dir = stack.workdir / "seaweedfs"
        self.weed_base = _weed_base()
        self.endpoint = f"http://127.0.0.1:{self.weed_base + 3}"
        self.ports = {"a": free_port(), "b": free_port()}
        # half the web processes on each node; `stack.web_workers` is then per node (the web
        # fault waits for node A to have all of its processes again)
        self.per_node = max(1, stack.web_workers // 2)
        stack.web_workers = self.per_node
        self.web: dict[str, Service] = {}
        self.balancer: Service | None = None
        self.restarting: threading.Thread | None = None
        self.state = stack.workdir / "balancer.json"

    # --- object store ----------------------------------------------------------------------

    def build(self) -> None:
        if WEED.exists():
            return
        out = subprocess.run(["bash", str(SCRIPT), "build"], capture_output=True, text=True,
                             check=False)
        if out.returncode != 0:
            raise StackError(f"SeaweedFS could not be built: {out.stderr[-2000:]}")

    def start_store(self) -> None:
        out = subprocess.run(["bash", str(SCRIPT), "start", str(self.weed_dir),
                              str(self.weed_base)], capture_output=True, text=True,
                             check=False, timeout=120)
        if out.returncode != 0:
            raise StackError(f"SeaweedFS did not start: {out.stderr[-2000:]}")

    def stop_store(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(["bash", str(SCRIPT), "stop", str(self.weed_dir)],
                           capture_output=True, check=False, timeout=60)

    def store_alive(self) -> bool:
        with contextlib.suppress(OSError), \
                socket.create_connection(("127.0.0.1", self.weed_base + 3), 1):
            return True
        return False

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name="us-east-1")

    def use_store(self) -> None:
        """Point the run's ini at the object store (CKAN's default file storage)."""
        text = self.stack.ini.read_text()
        old = f"ckan.files.storage.{STORAGE}.type = ckan:fs\n"
        if old not in text:
            raise StackError("the scale ini has no ckan:fs storage to replace")
        text = "".join(line for line in text.splitlines(keepends=True)
                       if not line.startswith((f"ckan.files.storage.{STORAGE}.path ",
                                               f"ckan.files.storage.{STORAGE}.initialize ")))
        lines = [f"ckan.files.storage.{STORAGE}.type = statrequest:s3",
                 f"ckan.files.storage.{STORAGE}.bucket = {BUCKET}",
                 f"ckan.files.storage.{STORAGE}.endpoint = {self.endpoint}",
                 f"ckan.files.storage.{STORAGE}.key = {ACCESS_KEY}",
                 f"ckan.files.storage.{STORAGE}.secret = {SECRET_KEY}",
                 f"ckan.files.storage.{STORAGE}.region = us-east-1",
                 f"ckan.files.storage.{STORAGE}.initialize = true",
                 f"ckan.files.storage.{STORAGE}.path = files"]
        self.stack.ini.write_text(text.replace(old, "\n".join(lines) + "\n"))
        self.client().create_bucket(Bucket=BUCKET)

    def node_ini(self, name: str) -> Path:
        """The ini of node `name`: the run's, with a storage path of the node's own."""
        storage = self.stack.workdir / f"node-{name}"
        (storage / "files").mkdir(parents=True, exist_ok=True)
        ini = self.stack.workdir / f"node-{name}.ini"
        text = self.stack.ini.read_text().replace(
            f"ckan.storage_path = {self.stack.storage}\n", f"ckan.storage_path = {storage}\n")
        ini.write_text(text)
        return ini

    # --- web nodes and the balancer --------------------------------------------------------

    def _gunicorn(self, name: str) -> Service:
        return Service(f"node-{name}", [
            str(BIN / "gunicorn"), "--workers", str(self.per_node),
            "--bind", f"127.0.0.1:{self.ports[name]}", "--timeout", "120",
            "--graceful-timeout", "10", "--env", f"SCALE_INI={self.node_ini(name)}",
            "--chdir", str(ROOT), "--error-logfile", "-", "--log-level", "warning",
            "--name", f"scale-{self.stack.tag}-{name}", "bench.scale.wsgi:application",
        ], self.stack.logs / f"gunicorn-{name}.log")

    def start_node(self, name: str, timeout: float = 180) -> float:
        started = time.monotonic()
        service = self._gunicorn(name).start()
        self.web[name] = service
        url = f"http://127.0.0.1:{self.ports[name]}/api/3/action/status_show"
        service.wait_ready(lambda: http_ok(url, timeout=10), timeout)
        for _ in range(self.per_node * 3):  # every worker loads CKAN
            http_ok(url, timeout=30)
        if name == "a":
            self.stack.web = service  # the fault `web` kills a process of node A
        return round(time.monotonic() - started, 1)

    def start(self) -> None:
        """Both nodes and the balancer on the run's web port."""
        self.start_node("a")
        self.start_node("b")
        self.balancer = Service("balancer", [
            sys.executable, "-m", "bench.scale.balancer", "--listen",
            str(self.stack.ports["web"]), "--backend", str(self.ports["a"]),
            "--backend", str(self.ports["b"]), "--state", str(self.state),
        ], self.stack.logs / "balancer.log")
        self.balancer.start().wait_ready(
            lambda: http_ok(f"{self.stack.url}/api/3/action/status_show", timeout=10), 30)

    def close(self) -> None:
        """The balancer and the nodes (the store is stopped by `stop_store`, after the workers)."""
        for service in [self.balancer, *self.web.values()]:
            if service is not None:
                with contextlib.suppress(Exception):
                    service.stop(timeout=10)

    def heal(self) -> list[str]:
        notes = []
        if self.restarting is not None:  # node A's restart after `kill_node`
            self.restarting.join(300)
        if not self.store_alive():
            self.start_store()
            notes.append("object store was down after the load; started")
        for name, service in self.web.items():
            if not service.alive():
                self.start_node(name)
                notes.append(f"node {name} was down after the load; started")
        return notes

    def balancer_state(self) -> dict[str, Any]:
        with contextlib.suppress(OSError, ValueError):
            return json.loads(self.state.read_text())
        return {}

    def describe(self) -> dict[str, Any]:
        return {"object_store": self.endpoint, "bucket": BUCKET, "nodes": dict(self.ports),
                "web_processes_per_node": self.per_node,
                "balancer": self.balancer_state()}


# --- faults -------------------------------------------------------------------------------------

def object_store(stack: Stack, seconds: float, settle: float = 0, wait: float = 120
                 ) -> dict[str, Any]:
    """The object store stopped for `seconds`, then started again on the same data.

    With `statrequest:s3` a process that boots while the store is down starts (the bucket is
    checked at the first file operation), so the store can go down at once (`settle` 0); with
    file-keeper's own adapter a web process booting then would die and gunicorn would stop
    the whole node, so `settle` seconds of every web process's life were waited for."""
    import psutil

    nodes: Nodes = stack.nodes  # type: ignore[attr-defined]
    deadline = time.monotonic() + wait
    waited = time.monotonic()
    while time.monotonic() < deadline:
        ages = []
        for service in nodes.web.values():
            with contextlib.suppress(psutil.Error):
                ages += [time.time() - c.create_time()
                         for c in psutil.Process(service.pid).children()]
        if ages and min(ages) >= settle:
            break
        time.sleep(0.5)
    waited = round(time.monotonic() - waited, 1)
    nodes.stop_store()
    down_at = time.monotonic()
    # the store stays down until node B's new processes answer (on a busy machine loading
    # CKAN can take longer than `seconds`), so that they surely booted without it
    booted = _reboot_node_processes(nodes, "b", 150)
    time.sleep(max(0.0, seconds - (time.monotonic() - down_at)))
    down = round(time.monotonic() - down_at, 1)
    started = time.monotonic()
    nodes.start_store()
    return {"down_seconds": down, "restart_seconds": round(time.monotonic() - started, 1),
            "waited_for_web_processes_seconds": waited, **booted}


def _reboot_node_processes(nodes: Nodes, name: str, within: float) -> dict[str, Any]:
    """SIGKILL of every web process of node `name` while the store is down: gunicorn starts
    new ones, which load CKAN (and its file storages) without the store, as a process recycled
    by `max_requests` would. The node must answer again within `within` seconds."""
    import os
    import signal

    import psutil

    service = nodes.web[name]
    with contextlib.suppress(psutil.Error):
        old = [c.pid for c in psutil.Process(service.pid).children()]
    for pid in old:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    started = time.monotonic()
    url = f"http://127.0.0.1:{nodes.ports[name]}/api/3/action/status_show"
    while time.monotonic() - started < within:
        if service.alive() and http_ok(url, timeout=5):
            return {f"node_{name}_processes_rebooted_while_down": len(old),
                    f"node_{name}_answered_after_seconds": round(time.monotonic() - started, 1)}
        time.sleep(0.5)
    return {f"node_{name}_processes_rebooted_while_down": len(old),
            f"node_{name}_answered_after_seconds": None,
            "note": f"node {name} did not answer within {within:.0f} s of the store going down"
                    + ("" if service.alive() else " (its gunicorn master exited)")}


def kill_node(stack: Stack, wait: float = 30) -> dict[str, Any]:
    """SIGKILL of node A (gunicorn master and workers) while a submission with files is under
    way through it; node A is then started again."""
    nodes: Nodes = stack.nodes  # type: ignore[attr-defined]
    port = str(nodes.ports["a"])
    deadline = time.monotonic() + wait
    uploads = 0
    while time.monotonic() < deadline:
        uploads = int(nodes.balancer_state().get(port, {}).get("uploads", 0))
        if uploads:
            break
        time.sleep(0.02)
    service = nodes.web["a"]
    pid = service.pid
    service.kill9()
    detail: dict[str, Any] = {"pid": pid, "uploads_in_flight": uploads,
                              **({} if uploads else
                                 {"note": f"no upload under way within {wait:.0f} s"})}

    def restart() -> None:
        # in the background: on a busy machine node A needs a minute or two to boot, and the
        # next faults (the store going down while it boots) should not wait for it
        try:
            detail["restarted_after_seconds"] = nodes.start_node("a")
        except Exception as err:  # noqa: BLE001 - reported, and heal() starts it again
            detail["restart_error"] = str(err)[:300]

    nodes.restarting = threading.Thread(target=restart, daemon=True, name="scale-node-a")
    nodes.restarting.start()
    return detail


# --- the cross-node check -------------------------------------------------------------------------

def _call(port: int, action: str, token: str, data: dict[str, Any] | None = None,
          files: dict[str, tuple[str, bytes, str]] | None = None, timeout: float = 60
          ) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/api/3/action/{action}"
    headers = {"Authorization": token}
    body: bytes | None = None
    if files:
        boundary = uuid.uuid4().hex
        parts = []
        for k, v in (data or {}).items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'
                         f"{v}\r\n".encode())
        for field, (name, content, mime) in files.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                         f'filename="{name}"\r\nContent-Type: {mime}\r\n\r\n'.encode()
                         + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read())["result"]
    except urllib.error.HTTPError as err:
        raise StackError(f"{action} on :{port}: HTTP {err.code} {err.read()[:300]!r}") from err


def _get(port: int, path: str, token: str) -> bytes:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",  # noqa: S310
                                 headers={"Authorization": token})
    with urllib.request.urlopen(req, timeout=60) as response:  # noqa: S310
        return response.read()


def _submission(ref: str) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    from bench.scale.files import pdf_bytes, png_bytes

    files = {
        "identity_document": ("ktp.png", png_bytes(ref), "image/png"),
        "request_letter": ("surat-permohonan.pdf", pdf_bytes(f"Surat {ref}"), "application/pdf"),
        "data_form": ("formulir.pdf", pdf_bytes(f"Formulir {ref}"), "application/pdf"),
    }
    form = {
        "requester_name": "Pemohon Lintas Node", "identity_type": "nik",
        "identity_number": "6104012345678901", "institution": "Universitas Tanjungpura",
        "category": "masyarakat_umum", "email": "lintas@scale.test", "phone": "0812-3456-7890",
        "address": "Jl. Merdeka 1, Ketapang", "title": f"Data lintas node {ref}",
        "description": f"Unggah lewat node A, unduh lewat node B. ref:{ref}", "period": "2025",
        "breakdown": "Desa", "data_format": "CSV", "purpose": "Uji dua node",
        "consent_personal_data": "true",
    }
    return form, files


def cross_check(stack: Stack, config: dict[str, Any]) -> dict[str, Any]:
    """Node A upload -> node B download byte for byte; a step fired on node A is seen by
    node B at once. Runs after the invariant checker (its request is not part of the load)."""
    nodes: Nodes = stack.nodes  # type: ignore[attr-defined]
    a, b = nodes.ports["a"], nodes.ports["b"]
    tokens = config["tokens"]
    requester = config["requesters"][0]
    form, files = _submission(uuid.uuid4().hex[:12])
    rid = _call(a, "statrequest_create", tokens[requester], form, files)["id"]
    sent = {hashlib.sha256(content).hexdigest() for _n, content, _m in files.values()}
    staff = list(config["staff"])
    reader = staff[0]  # Diskominfo staff see every file of a request
    shown = _call(b, "statrequest_show", tokens[reader], {"id": rid})
    got = {hashlib.sha256(_get(b, f"/permintaan-data/berkas/{att['id']}", tokens[reader]))
           .hexdigest() for att in shown["attachments"]}
    files_ok = got == sent
    # a step on node A by whoever may act first (taken from the workflow, not named here),
    # read back on node B at once
    step, step_ok, errors = None, False, []
    for name in staff:
        for t in _call(b, "statrequest_available_transitions", tokens[name], {"id": rid}):
            if t.get("requires") or t.get("reason") == "required" or t.get("sla") == "stop":
                continue
            try:
                _call(a, "statrequest_transition", tokens[name],
                      {"id": rid, "transition": t["name"], "version": shown["version"],
                       "note": "Uji dua node.", "instruction": "Uji dua node."})
            except StackError as err:
                errors.append(str(err)[:200])
                continue
            after = _call(b, "statrequest_show", tokens[name], {"id": rid})
            step, step_ok = t["name"], after["version"] == shown["version"] + 1
            break
        if step:
            break
    return {"ok": bool(files_ok and step_ok), "request": rid, "uploaded_via": f"node A :{a}",
            "downloaded_via": f"node B :{b}", "files_identical": files_ok,
            "files": len(got), "step_on_a": step, "step_seen_on_b_at_once": step_ok,
            **({"step_errors": errors} if not step_ok else {})}


def register_faults() -> None:
    from bench.scale import faults

    faults.FAULTS.setdefault("object_store", object_store)
    faults.FAULTS.setdefault("kill_node", kill_node)
