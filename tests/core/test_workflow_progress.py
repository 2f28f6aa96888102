"""The progress tracker's steps in the workflow file (`progress:`): the main path, where each
state shows, and the problems a regency's file can have."""
from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from ckanext.statrequest.core.workflow import DEFAULT_PATH, Workflow, WorkflowError, load_default


def _data() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def test_the_main_path_and_where_each_state_shows() -> None:
    wf = load_default()
    path = wf.main_path()
    assert path[0] == wf.initial and wf.is_final(path[-1])
    # the way forward: no refusal, no pause for the requester, no withdrawal, no return
    assert len(path) == len(set(path)) == 12
    steps = wf.progress_steps()
    assert [s.label.en for s in steps] == ["Request received", "Completeness check",
                                           "Data being prepared", "Reply being signed", "Done"]
    assert steps[0].states == ()  # the submission itself
    where = {s: wf.progress_index(s) for s in wf.states}
    assert where[wf.initial] == 1 and where[path[-1]] == len(steps) - 1
    assert [where[s] for s in path] == sorted(where[s] for s in path)  # never backwards
    # a detour is shown where it is reached from; the withdrawal is off the tracker
    assert where["perlu_perbaikan"] == where["diajukan"]
    assert where["dibatalkan"] is None and wf.progress_index("no_such_state") is None


def test_without_a_progress_list_each_state_of_the_main_path_is_a_step() -> None:
    data = _data()
    del data["progress"]
    wf = Workflow.from_dict(data)
    assert [s.states for s in wf.progress_steps()] == [(s,) for s in wf.main_path()]
    assert wf.progress_index("perlu_perbaikan") == 0


def test_only_the_withdrawal_asks_for_confirmation() -> None:
    wf = load_default()
    assert [t.name for t in wf.transitions.values() if t.asks_confirmation] == ["batalkan"]


def _steps(d: dict[str, Any]) -> list[dict[str, Any]]:
    return d["progress"]


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda d: _steps(d)[2]["states"].remove("menunggu_opd"),
     "progress: state 'menunggu_opd' of the main path is in no step"),
    (lambda d: _steps(d).append({"label": {"id": "x", "en": "x"}, "states": []}),
     "progress step #6: only the first step (the submission) may have no states"),
    (lambda d: _steps(d)[1]["states"].append("ditelaah"),
     "progress step #2: unknown state 'ditelaah'"),
    (lambda d: _steps(d)[3]["states"].append("diajukan"),
     "progress step #4: state 'diajukan' is already in step #2"),
    (lambda d: _steps(d)[1].update(nama="x"), "progress step #2: unknown key 'nama'"),
    (lambda d: _steps(d)[1]["label"].pop("en"), "progress step #2: missing label 'en'"),
    (lambda d: d.update(progress="selesai"),
     "progress: must be a list of steps, each with a label and states"),
    (lambda d: (_steps(d)[3]["states"].append("selesai"), _steps(d)[4].update(states=["dibatalkan"])),
     "progress: the last step must hold 'selesai', where the main path ends"),
])
def test_a_broken_progress_list_is_reported(mutate, expected) -> None:
    data = copy.deepcopy(_data())
    mutate(data)
    with pytest.raises(WorkflowError) as exc:
        Workflow.from_dict(data)
    assert any(expected in p for p in exc.value.problems), exc.value.problems
