"""The short scale run (bench/scale): two gunicorn nodes behind a balancer with files on an
object store (SeaweedFS; one node of 4 web processes when it is not built), 2 RQ workers, its
own Redis, Solr, SMTP server and database, a mixed Locust load of a few hundred requests with
each fault injected, then the invariant checker. 7-11 minutes; see bench/scale/README.md.

Runs `bench/scale/run.py --short` as its own process, exactly as a person runs it, and reads
the JSON result it writes: nothing of bench/ (nor of CKAN) is imported into the test process,
so the test configuration of the other tests is not touched. The run stops every process it
started, also when it fails; a run that hangs gets SIGTERM (which it handles the same way).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / ".run"
FAULTS = {"kill_worker", "smtp", "redis", "solr", "web"}
# two web nodes on an object store (bench/scale/nodes.py, SeaweedFS built by `dev/services.sh
# install`) and three more faults, whenever SeaweedFS is built; STATREQUEST_SCALE_NODES=1: one
WEED = RUN / "bin" / "weed"
NODES = os.environ.get("STATREQUEST_SCALE_NODES", "2") != "1" and WEED.exists()
NODE_FAULTS = {"object_store", "kill_node"}
TEST_SERVICE_URLS = ("CKAN_SQLALCHEMY_URL", "CKAN_SOLR_URL", "CKAN_REDIS_URL")  # dev/ports.sh
TIMEOUT = 30 * 60  # seconds; the short run takes 3-4 minutes on a quiet 2-CPU machine


@pytest.fixture(scope="module")
def scale_run() -> Any:
    if shutil.which("java") is None or shutil.which("redis-server") is None:
        pytest.skip("needs Java (Solr) and redis-server; run `bash dev/services.sh start`")
    if not (RUN / "solr" / "classpath.txt").exists():
        pytest.skip("Solr is not built; run `bash dev/services.sh start` once")
    tag = f"pytest-{os.getpid()}"
    workdir = RUN / f"scale-{tag}"  # made (and emptied first) by the run
    out = RUN / f"bench-{tag}.json"  # outside the work directory, which the run may remove
    log_path = RUN / f"bench-{tag}.log"
    # the run makes its own services and database: the test services' addresses are not for it
    env = {k: v for k, v in os.environ.items() if k not in TEST_SERVICE_URLS}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "scale" / "run.py"), "--short", "--tag", tag,
             "--json", str(out), *(["--nodes", "2"] if NODES else [])],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)  # the run stops its stack on SIGTERM
            proc.wait(300)
            pytest.fail(f"the scale run took more than {TIMEOUT} s; see {log_path}")
    if not out.exists():
        pytest.fail(f"the scale run ended (exit code {proc.returncode}) without a result:\n"
                    + log_path.read_text()[-5000:])
    result = json.loads(out.read_text())
    yield result
    if result.get("checker", {}).get("ok"):  # kept after a failure, for its logs
        shutil.rmtree(workdir, ignore_errors=True)
        out.unlink(missing_ok=True)
        log_path.unlink(missing_ok=True)


def test_every_fault_was_injected_once(scale_run):
    done = {f["fault"]: f for f in scale_run["faults"]}
    assert set(done) == FAULTS | (NODE_FAULTS if scale_run.get("nodes") else set()), done
    for name, fault in done.items():
        assert fault["error"] is None, (name, fault["error"])
        assert "skipped" not in fault["detail"], (name, fault["detail"])
    # the killed worker was in the middle of a job, and that job's work was done later
    assert done["kill_worker"]["detail"]["job_id"]


def test_invariants_hold(scale_run):
    checker = scale_run["checker"]
    assert checker["ok"], "\n".join(checker["lines"])
    by_name = {c["name"]: c for c in checker["checks"]}
    # the run exercised what the invariants are about
    assert by_name["submissions"]["info"]["acknowledged"] >= 10
    assert by_name["transitions_once"]["info"]["acknowledged"] >= 20
    assert by_name["notifications"]["checked"] >= 20
    assert by_name["letters"]["checked"] >= 1, "no letter was signed during the load"


def test_no_errors_without_faults_and_all_work_drained(scale_run):
    quiet = scale_run["phases"]["quiet"]
    assert quiet["calls"] > 20
    assert quiet["errors"] == 0, quiet["pages"]
    assert any(line.startswith("drained") for line in scale_run["recovery"]), \
        scale_run["recovery"]


def test_two_nodes_share_files_and_state(scale_run):
    """Node A upload -> node B download, byte for byte; a step on A seen on B at once; node A
    killed while a submission with files was under way through it."""
    if not scale_run.get("nodes"):
        pytest.skip("one node (STATREQUEST_SCALE_NODES=1, or SeaweedFS not built by "
                    "`bash dev/services.sh install`)")
    cross = scale_run["cross_node"]
    assert cross["ok"], cross
    assert cross["files_identical"] and cross["files"] == 3
    assert cross["step_seen_on_b_at_once"]
    killed = next(f for f in scale_run["faults"] if f["fault"] == "kill_node")["detail"]
    assert killed["uploads_in_flight"] >= 1, killed
    # node B's web processes, killed while the store was down, booted again without it
    store = next(f for f in scale_run["faults"] if f["fault"] == "object_store")["detail"]
    assert store["node_b_processes_rebooted_while_down"] >= 1, store
    assert store["node_b_answered_after_seconds"] is not None, store
    files = next(c for c in scale_run["checker"]["checks"] if c["name"] == "files")
    assert files["ok"] and files["checked"] > 0
