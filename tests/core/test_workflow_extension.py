"""The workflow's `to: same` and `extend_days` keys (the deadline extension, perpanjangan):
what the default workflow declares, and the problems a wrong file shows."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from ckanext.statrequest.core.workflow import (
    DEFAULT_PATH,
    EXTEND_DAYS_MAX,
    Workflow,
    WorkflowError,
    load_default,
)


def default_data() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def extension(data: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in data["transitions"] if t.get("extend_days"))


def problems_of(data: Any) -> list[str]:
    with pytest.raises(WorkflowError) as exc:
        Workflow.from_dict(data)
    return exc.value.problems


def test_the_default_workflow_extends_the_deadline_once_by_seven_working_days() -> None:
    wf = load_default()
    (t,) = [t for t in wf.transitions.values() if t.extend_days]
    assert t.extend_days == 7 and t.stays and t.is_public and t.needs("note")
    assert t.sla is None  # the clock keeps running
    # from every running state after the disposition reached the Section Head
    assert set(t.sources) <= {s for s in wf.states if wf.sla_running(s)}
    assert t.actor in wf.positions
    for state in t.sources:  # the request stays where it is
        assert t.target_of(state) == state
        assert t in wf.available(state, {t.actor})
    assert not any(t in wf.available(s, {t.actor}) for s in wf.states if s not in t.sources)
    other = wf.transitions[wf.available(wf.initial, {wf.states[wf.initial].holder})[0].name]
    assert not other.stays and other.target_of(wf.initial) == other.target


def test_a_regency_may_change_the_days_or_leave_the_extension_out() -> None:
    data = default_data()
    extension(data)["extend_days"] = 14
    assert next(t for t in Workflow.from_dict(data).transitions.values()
                if t.extend_days).extend_days == 14
    data["transitions"].remove(extension(data))
    assert not any(t.extend_days for t in Workflow.from_dict(data).transitions.values())


@pytest.mark.parametrize("days", [0, -1, EXTEND_DAYS_MAX + 1, "7", 2.5, True, None])
def test_a_bad_number_of_days_is_a_problem(days: Any) -> None:
    data = default_data()
    extension(data)["extend_days"] = days
    problems = problems_of(data)
    assert any("extend_days must be a whole number of working days" in p for p in problems), \
        problems


def test_extend_days_needs_to_same() -> None:
    data = default_data()
    t = extension(data)
    t["from"], t["to"] = "menunggu_opd", "menunggu_opd"
    problems = problems_of(data)
    assert any("extend_days needs 'to: same'" in p for p in problems), problems


def test_extend_days_only_where_the_clock_runs() -> None:
    data = default_data()
    paused = next(n for n, s in data["states"].items() if s["sla"] == "paused")
    extension(data)["from"].append(paused)
    problems = problems_of(data)
    assert any(f"extend_days only from states whose clock runs, not {paused!r}" in p
               for p in problems), problems


def test_to_same_takes_no_sla_effect_and_no_final_state() -> None:
    data = default_data()
    t = extension(data)
    t["sla"] = "pause"
    t["from"].append(data["final"][0])
    problems = problems_of(data)
    assert any("'to: same' keeps the state and its clock" in p for p in problems), problems
    assert any(f"'to: same' cannot start from the final state {data['final'][0]!r}" in p
               for p in problems), problems


def test_a_state_named_same_is_refused() -> None:
    data = default_data()
    data["states"]["same"] = dict(data["states"][data["initial"]])
    problems = problems_of(data)
    assert any("state 'same': the name is reserved" in p for p in problems), problems


def test_a_state_left_only_by_to_same_is_a_dead_end() -> None:
    """`to: same` is no way out: a state whose only transition keeps it is reported."""
    data = default_data()
    data["states"]["ditunda"] = {"label": {"id": "Ditunda", "en": "Deferred"},
                                 "holder": "kepala_seksi", "sla": "running"}
    data["transitions"].append({
        "name": "tunda", "from": "pemeriksaan_kasi", "to": "ditunda", "actor": "kepala_seksi",
        "visibility": "internal", "label": {"id": "Tunda", "en": "Defer"}})
    extension(data)["from"].append("ditunda")
    problems = problems_of(data)
    assert any("state 'ditunda' is a dead end" in p for p in problems), problems
