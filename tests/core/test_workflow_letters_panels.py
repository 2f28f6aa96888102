"""What letters, pages and auth read from the workflow file (issue #12): who initials and who
signs the reply (and "a.n." whom), whose notes give the letter's reason, which states show
which panel, who answers for personal data; each new key checked, every problem at once."""
from __future__ import annotations

from pathlib import Path

import pytest

from ckanext.statrequest.core.workflow import (
    DEFAULT_PATH,
    MAX_PARAF,
    REQUESTER,
    Workflow,
    WorkflowError,
    load_default,
)

PPID = DEFAULT_PATH.parents[1] / "workflows" / "ppid_desk.yaml"


def _broken(text: str, *changes: tuple[str, str]) -> list[str]:
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    with pytest.raises(WorkflowError) as err:
        Workflow.from_yaml(text)
    return err.value.problems


def test_the_default_letter_is_initialled_twice_and_signed_in_own_name():
    wf = load_default()
    signing = wf.signing_transition()
    assert signing is not None and wf.letter_signer() == signing.actor
    assert len(wf.paraf_positions()) == MAX_PARAF
    assert wf.letter_signer() not in wf.paraf_positions()
    assert wf.letter_on_behalf_of() is None
    assert set(wf.letter_reason_from) <= set(wf.transitions)
    assert wf.privacy_position in wf.positions
    (changes,) = wf.states_with_panel("requester_changes")
    assert wf.state(changes).holder == REQUESTER
    assert all(wf.is_final(s) for s in wf.states_with_panel("answer"))
    assert wf.main_path()[-1] in wf.states_with_panel("answer")


def test_the_ppid_desk_workflow_signs_on_behalf_without_a_secretary():
    wf = Workflow.from_yaml(PPID)
    default = load_default()
    assert wf.state(wf.initial).holder == wf.front_desk_position == wf.privacy_position
    assert len(wf.paraf_positions()) == 1
    assert wf.letter_on_behalf_of() == default.letter_signer()
    assert wf.letter_signer() != default.letter_signer()
    # the Secretary (the default's second paraf) has no place in this regency's workflow
    assert default.paraf_positions()[1] not in wf.positions
    assert wf.main_path()[-1] in wf.states_with_panel("answer")
    # the escalation chain ends at the Head of Agency, the position signed for
    assert wf.escalation_chain(wf.assignee_position)[-1] == wf.letter_on_behalf_of()


def test_the_ppid_desk_workflow_has_two_opd_rounds_and_no_third():
    wf = Workflow.from_yaml(PPID)
    opd_states = [s for s in wf.states.values() if s.holder == "opd"]
    assert len(opd_states) == 2
    # from each check after an OPD round: back to an OPD at most once over the whole way
    first, second = opd_states
    into_second = [t for t in wf.transitions.values() if t.target == second.name]
    assert into_second and all(wf.state(src).holder == wf.assignee_position
                               for t in into_second for src in t.sources)
    after_second = {t.target for t in wf.outgoing(second.name)}
    assert not any(t.target in (first.name, second.name)
                   for s in after_second for t in wf.outgoing(s))


def test_every_problem_of_the_new_keys_at_once():
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    problems = _broken(
        text,
        ("privacy_position: sekretaris", "privacy_position: lurah"),
        ("reason_from: [tolak,", "reason_from: [entah,"),
        ("letters:\n", "letters:\n  kop: ketapang\n"),
        ("    sla: paused\n    panel: requester_changes", "    sla: paused\n    panel: answer"),
        ("    sla: stopped\n    panel: answer", "    sla: stopped\n    panel: jendela"),
        # the Section Head initials too: three paraf positions
        ("    to: paraf_kabid\n    actor: kepala_seksi\n    requires: []\n    visibility: internal\n"
         "    letter: draft",
         "    to: paraf_kabid\n    actor: kepala_seksi\n    requires: [signature]\n"
         "    visibility: internal\n    letter: paraf"),
    )
    expected = [
        "privacy_position: unknown position 'lurah'",
        "letters: reason_from: unknown transition 'entah'",
        "letters: unknown key 'kop'",
        "state 'perlu_perbaikan': panel 'answer' is for a final state",
        "state 'selesai': panel must be one of requester_changes, answer, got 'jendela'",
        "letters: at most 2 positions initial the reply (paraf), got kepala_seksi, "
        "kepala_bidang, sekretaris",
    ]
    for problem in expected:
        assert problem in problems, (problem, problems)


def test_one_position_signs_the_reply():
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    problems = _broken(text, ("    visibility: internal\n    letter: paraf\n    label: {id: Paraf, "
                              "en: Initial}\n\n  - name: kembalikan_oleh_sekretaris",
                              "    visibility: internal\n    letter: sign\n    label: {id: Paraf, "
                              "en: Initial}\n\n  - name: kembalikan_oleh_sekretaris"))
    assert "letters: one position signs the reply (letter: sign), got kepala_dinas, " \
           "sekretaris" in problems


def test_a_panel_for_the_requester_needs_a_state_they_hold():
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    problems = _broken(text, ("    holder: staf\n    sla: running\n",
                              "    holder: staf\n    sla: running\n    panel: requester_changes\n"))
    assert any("panel 'requester_changes' is for a state the requester" in p for p in problems)


def test_returns_and_refusals_are_told_from_steps_forward():
    for wf in (load_default(), Workflow.from_yaml(PPID)):
        path = wf.main_path()
        for t in wf.transitions.values():
            forward = (not t.stays and t.target in path and any(
                s in path and path.index(t.target) == path.index(s) + 1 for s in t.sources))
            if forward and t.outcome is None:
                assert not wf.goes_back(t), t.name
            if t.outcome == "ditolak":
                assert wf.goes_back(t), t.name
        returns = [t for t in wf.transitions.values() if wf.goes_back(t)]
        assert returns  # both have steps that send the request back
        assert all(t.requires and any(r.kind == "note" for r in t.requires) for t in returns)


def test_a_workflow_without_letters_or_assignee_is_valid(tmp_path: Path):
    minimal = """
initial: a
final: [b]
positions:
  - code: petugas
    label: {id: Petugas, en: Officer}
states:
  a: {label: {id: A, en: A}, holder: petugas, sla: running}
  b: {label: {id: B, en: B}, holder: null, sla: stopped, panel: answer}
transitions:
  - {name: jawab, from: a, to: b, actor: petugas, visibility: public, sla: stop,
     label: {id: Jawab, en: Answer}}
"""
    wf = Workflow.from_yaml(minimal)
    assert wf.assignee_position is None and wf.letter_signer() is None
    assert wf.paraf_positions() == () and wf.privacy_position is None
