"""The plugin refuses to start CKAN with an invalid workflow file, listing every problem."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ckanext.statrequest.core.workflow import DEFAULT_PATH

ROOT = Path(__file__).resolve().parents[1]


def _start(tmp_path: Path, workflow: Path) -> subprocess.CompletedProcess:
    """`ckan db version` (a real start of CKAN with our plugin) with this workflow file."""
    ini = tmp_path / "alur.ini"
    ini.write_text(f"[app:main]\nuse = config:{ROOT / 'test.ini'}\n"
                   f"ckanext.statrequest.workflow_file = {workflow}\n")
    return subprocess.run([str(Path(sys.executable).with_name("ckan")), "-c", str(ini),
                           "db", "version"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_an_invalid_workflow_stops_ckan_with_every_problem(tmp_path):
    broken = DEFAULT_PATH.read_text()
    broken = broken.replace("actor: kepala_dinas", "actor: bupati", 1)
    broken = broken.replace("to: selesai", "to: entah_kemana", 1)
    broken = broken.replace("initial: diajukan", "initial: belum_ada", 1)
    assert broken.count("bupati") == 1 and "belum_ada" in broken
    path = tmp_path / "alur.yaml"
    path.write_text(broken)
    out = _start(tmp_path, path)
    output = out.stdout + out.stderr
    assert out.returncode != 0
    assert "ckanext.statrequest.workflow_file" in output and str(path) in output
    for problem in ("'bupati'", "'entah_kemana'", "'belum_ada'"):
        assert problem in output, problem


def test_a_missing_workflow_file_stops_ckan(tmp_path):
    out = _start(tmp_path, tmp_path / "tidak-ada.yaml")
    assert out.returncode != 0
    assert "cannot read" in out.stdout + out.stderr


def test_the_default_workflow_starts(tmp_path):
    out = _start(tmp_path, DEFAULT_PATH)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_second_regencys_workflow_starts(tmp_path):
    out = _start(tmp_path, DEFAULT_PATH.parents[1] / "workflows" / "ppid_desk.yaml")
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_letter_and_panel_keys_are_checked_at_start_too(tmp_path):
    """Issue #12's keys (who initials and signs, panels, reason notes, privacy position): a
    broken one stops CKAN like any other problem, all of them listed in one go."""
    broken = DEFAULT_PATH.read_text()
    for old, new in (("privacy_position: sekretaris", "privacy_position: lurah"),
                     ("reason_from: [tolak,", "reason_from: [entah,"),
                     ("    sla: stopped\n    panel: answer", "    sla: stopped\n    panel: jendela"),
                     ("initial: diajukan", "initial: belum_ada")):
        assert old in broken, old
        broken = broken.replace(old, new, 1)
    path = tmp_path / "alur.yaml"
    path.write_text(broken)
    out = _start(tmp_path, path)
    output = out.stdout + out.stderr
    assert out.returncode != 0
    for problem in ("'lurah'", "'entah'", "'jendela'", "'belum_ada'"):
        assert problem in output, problem
