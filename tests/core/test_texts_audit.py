"""Texts by audience: whoever reads a state's label reads words written for them.

A state's `label:` is the requester's text ("waiting for you to complete the request"), its
`official:` what Diskominfo officials and OPD read ("waiting for the requester's changes").
The audit checks EVERY workflow file the package ships, so a regency's variant added later is
held to the same rule; the page tests check that the pages pick the text by the reader.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from support import POSITIONS, act, fire, submit

from ckanext.statrequest.core import workflow as wflib
from ckanext.statrequest.core.workflow import (
    AUDIENCES,
    LANGUAGES,
    OFFICIAL,
    REQUESTER_AUDIENCE,
    Workflow,
    WorkflowError,
)

PACKAGE = Path(wflib.__file__).resolve().parents[1]
# words that address the reader: never in what an official reads about the requester's turn
ADDRESSES_READER = {"id": re.compile(r"\bAnda\b", re.IGNORECASE),
                    "en": re.compile(r"\byou(r|rs)?\b", re.IGNORECASE)}


def shipped_workflows() -> list[Path]:
    """Every YAML file in the package that is a workflow (has states and transitions)."""
    found = []
    for path in sorted({*PACKAGE.rglob("*.yaml"), *PACKAGE.rglob("*.yml")}):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            continue
        if isinstance(data, dict) and {"states", "transitions"} <= set(data):
            found.append(path)
    return found


WORKFLOWS = shipped_workflows()


def test_the_default_workflow_is_audited():
    assert wflib.DEFAULT_PATH.resolve() in [p.resolve() for p in WORKFLOWS]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_state_has_a_text_per_audience_in_both_languages(path):
    wf = Workflow.from_yaml(path)  # valid, or this raises with every problem
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["states"]
    missing = [name for name in wf.states if not isinstance(raw[name].get("official"), dict)]
    assert not missing, f"{path.name}: states without an official text: {missing}"
    for name, state in wf.states.items():
        for audience in AUDIENCES:
            for lang in LANGUAGES:
                assert state.label_for(audience, lang).strip(), (name, audience, lang)
        for lang in LANGUAGES:
            official = state.label_for(OFFICIAL, lang)
            assert not ADDRESSES_READER[lang].search(official), \
                f"{path.name}: state {name!r} speaks to the reader in its official text: {official!r}"


# --- the engine -------------------------------------------------------------------------------

_MINIMAL = """
initial: a
final: [b]
positions:
  - code: staf
    label: {id: Staf, en: Staff}
states:
  a:
    label: {id: Menunggu Anda, en: Waiting for you}
    %s
    holder: pemohon
    sla: paused
  b:
    label: {id: Selesai, en: Done}
    holder: null
    sla: stopped
transitions:
  - name: kirim
    from: a
    to: b
    actor: pemohon
    requires: []
    visibility: public
    sla: stop
    label: {id: Kirim, en: Send}
"""


def test_official_text_is_read_and_requester_text_stays_the_label():
    wf = Workflow.from_yaml(_MINIMAL % "official: {id: Menunggu pemohon, en: Waiting for the requester}")
    a = wf.state("a")
    assert a.label_for(REQUESTER_AUDIENCE, "id") == a.label.get("id") == "Menunggu Anda"
    assert a.label_for(OFFICIAL, "id") == "Menunggu pemohon"
    assert a.label_for(OFFICIAL, "en_GB") == "Waiting for the requester"
    assert wf.state_label("a", OFFICIAL, "en") == "Waiting for the requester"
    assert wf.state_label("gone", OFFICIAL, "en") == "gone"  # a state no longer in the file


def test_without_official_text_officials_read_the_label():
    wf = Workflow.from_yaml(_MINIMAL % "")
    assert wf.state("a").official is None
    assert wf.state("a").label_for(OFFICIAL, "en") == "Waiting for you"
    assert wf.state("b").label_for(OFFICIAL, "id") == "Selesai"


@pytest.mark.parametrize("official,problem", [
    ("official: Menunggu pemohon", "official text (a mapping with 'id' and 'en')"),
    ("official: {id: Menunggu pemohon}", "missing official text 'en'"),
    ("official: {id: Menunggu pemohon, en: '  '}", "missing official text 'en'"),
    ("official: {id: Menunggu, en: Waiting, fr: Attente}", "unknown official text language 'fr'"),
])
def test_a_bad_official_text_is_a_problem(official, problem):
    with pytest.raises(WorkflowError) as exc:
        Workflow.from_yaml(_MINIMAL % official)
    assert any(problem in p and "state 'a'" in p for p in exc.value.problems), exc.value.problems


def test_an_unknown_audience_is_refused():
    wf = Workflow.from_yaml(_MINIMAL % "")
    with pytest.raises(ValueError):
        wf.state("a").label_for("opd", "id")


# --- the pages ----------------------------------------------------------------------------------

def _user_of(position: str) -> str:
    return next(user for user, held in POSITIONS.items() if held == position)


def _needs_changes(wf: Workflow) -> tuple[str, wflib.Transition]:
    """The state where the request waits for the requester, and the step from the initial
    state into it (default workflow: perlu_perbaikan by minta_perbaikan)."""
    state = next(s.name for s in wf.states.values()
                 if s.holder == wflib.REQUESTER and not s.final)
    step = next(t for t in wf.outgoing(wf.initial) if t.target == state)
    return state, step


@pytest.fixture
def returned(office):
    """A request sent back to its requester (pemohon1) for changes."""
    from ckanext.statrequest import settings

    wf = settings.workflow()
    state, step = _needs_changes(wf)
    r = submit()
    fire(_user_of(step.actor), r["id"], step.name, note="Mohon lampirkan surat bertanda tangan.")
    return wf, wf.state(state), r


def _page(make_app, user, url):
    app = make_app()
    if user:
        app.set_session_user(user)
    return app.get(url).body


@pytest.mark.usefixtures("with_plugins")
def test_request_page_speaks_to_its_reader(make_app, returned):
    wf, state, r = returned
    url = f"/permintaan-data/{r['tracking_number']}"
    mine = _page(make_app, "pemohon1", url)
    assert "dari Anda" in mine
    assert f'<span id="state-label">{state.label_for(REQUESTER_AUDIENCE, "id")}</span>' in mine
    assert 'id="asked-of-you"' in mine and "Permintaan Anda perlu dilengkapi" in mine
    official_text = state.label_for(OFFICIAL, "id")
    for user in (_user_of(wf.state(wf.initial).holder), "kasi", "kadis"):
        theirs = _page(make_app, user, url)
        assert "dari Anda" not in theirs, user
        assert "Permintaan Anda perlu dilengkapi" not in theirs, user
        assert f'<span id="state-label">{official_text}</span>' in theirs, user
        assert 'id="asked-of-requester"' in theirs, user


@pytest.mark.usefixtures("with_plugins")
def test_lists_api_and_tracking_pick_the_reader(make_app, returned):
    _wf, state, r = returned
    requester_id, official_id = (state.label_for(a, "id") for a in (REQUESTER_AUDIENCE, OFFICIAL))
    assert requester_id != official_id
    # the API answers in the caller's words
    assert act("pemohon1", "statrequest_show", id=r["id"])["state_label"] == requester_id
    assert act("kasi", "statrequest_show", id=r["id"])["state_label"] == official_id
    assert act("kasi", "statrequest_list")["results"][0]["state_label"] == official_id
    assert act("pemohon1", "statrequest_list")["results"][0]["state_label"] == requester_id
    # lists: the requester's own, the officials' overview
    assert requester_id in _page(make_app, "pemohon1", "/permintaan-data/saya")
    everything = _page(make_app, "kasi", "/permintaan-data/semua")
    assert official_id in everything and "dari Anda" not in everything
    # the public tracking page is the requester's
    found = make_app().post("/permintaan-data/lacak", data={
        "nomor": r["tracking_number"], "email": "dewi@example.test"}).body
    assert requester_id in found
    # the statistics are for officials
    stats = _page(make_app, "kasi", "/permintaan-data/statistik")
    assert official_id in stats and "dari Anda" not in stats
