"""`ckan statrequest ...` commands."""
from __future__ import annotations

import pytest

from ckanext.statrequest.cli import statrequest
from ckanext.statrequest.core.workflow import DEFAULT_PATH

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_workflow_check_accepts_the_default(cli):
    result = cli.invoke(statrequest, ["workflow-check", str(DEFAULT_PATH)])
    assert result.exit_code == 0, result.output
    assert "valid workflow" in result.output


def test_workflow_check_lists_every_problem(cli, tmp_path):
    broken = DEFAULT_PATH.read_text().replace("actor: kepala_dinas", "actor: bupati", 1)
    broken = broken.replace("to: selesai", "to: entah_kemana", 1)
    path = tmp_path / "alur.yaml"
    path.write_text(broken)
    result = cli.invoke(statrequest, ["workflow-check", str(path)])
    assert result.exit_code == 1
    assert "bupati" in result.output and "entah_kemana" in result.output


def test_init_test_pki_writes_one_key_per_signing_position(cli, tmp_path, clean_db):
    result = cli.invoke(statrequest, ["init-test-pki", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for position in ("kepala_bidang", "sekretaris", "kepala_dinas"):
        assert (tmp_path / f"{position}.p12").stat().st_size > 1000
