"""The short scale run (bench/scale): gunicorn with 4 web processes, 2 RQ workers, its own
Redis, Solr, SMTP server and database, a mixed Locust load of a few hundred requests with each
fault injected once, then the invariant checker. A few minutes; see bench/scale/README.md.

Runs in its own processes (nothing of CKAN is loaded into this one for it), so the test
configuration of the other tests is not touched. Every process it starts is stopped again,
also when it fails.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale import run as scale  # noqa: E402
from bench.scale.stack import RUN  # noqa: E402

FAULTS = {"kill_worker", "smtp", "redis", "solr", "web"}


@pytest.fixture(scope="module")
def scale_run():
    if shutil.which("java") is None or shutil.which("redis-server") is None:
        pytest.skip("needs Java (Solr) and redis-server; run `bash dev/services.sh start`")
    if not (RUN / "solr" / "classpath.txt").exists():
        pytest.skip("Solr is not built; run `bash dev/services.sh start` once")
    tag = f"pytest-{os.getpid()}"
    result = scale.execute("short", tag=tag)
    yield result
    if result.get("checker", {}).get("ok"):  # kept after a failure, for its logs
        shutil.rmtree(RUN / f"scale-{tag}", ignore_errors=True)


def test_every_fault_was_injected_once(scale_run):
    done = {f["fault"]: f for f in scale_run["faults"]}
    assert set(done) == FAULTS, done
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
