"""Both shipped workflows, walked end to end through the actions and pages (issue #12): the
default SOP and the second regency's (workflows/ppid_desk.yaml: the PPID desk checks, no
Secretary, the Head of Division signs "a.n. Kepala Dinas", two OPD rounds).

Nothing here names a state, transition or position: every step is read from the active
workflow (its main path from `initial` to the answer, who holds each step, what it requires),
so the same test holds any regency's file to the same rules.
"""
from __future__ import annotations

import ckantoolkit as tk
import pytest
from support import (
    PASSPHRASE,
    RESULT_CSV,
    RESULT_NAME,
    SHIPPED_WORKFLOWS,
    act,
    as_sysadmin,
    pdf_text,
    person_for,
    submit,
    upload,
)

from ckanext.statrequest import settings
from ckanext.statrequest.core import workflow as wflib
from ckanext.statrequest.documents.layout import PARAF1, PARAF2, TTE
from ckanext.statrequest.documents.verify import verify_pdf

pytestmark = pytest.mark.usefixtures("with_plugins", "test_pki")
both = pytest.mark.parametrize("regency", SHIPPED_WORKFLOWS, indirect=True)


def _inputs(t: wflib.Transition, office, outcome: str) -> dict:
    inputs: dict = {}
    for req in t.requires:
        if req.kind in ("note", "instruction"):
            inputs[req.kind] = f"Catatan uji untuk {t.name}."
        elif req.kind == "assignee":
            inputs["assignee"] = "staf1"
        elif req.kind == "opd":
            inputs["opd"] = [office.opd["dinas-kesehatan"]["id"]]
        elif req.kind == "outcome":
            inputs["outcome"] = outcome
        elif req.kind == "files":
            inputs["result"] = upload(RESULT_NAME, RESULT_CSV)
        elif req.kind == "signature":
            inputs["passphrase"] = PASSPHRASE
    if (t.outcome or inputs.get("outcome")) in ("ditolak", "dipenuhi_sebagian"):
        inputs["reason"] = "pasal17j"  # UU 14/2008 Pasal 17 huruf j
    return inputs


def _forward(wf: wflib.Workflow, state: str, nxt: str, outcome: str = "dipenuhi"
             ) -> wflib.Transition:
    """The step of the main path from `state` to `nxt` (no refusal or pause when there is
    another; for a refusal, the OPD's "no data" rather than an upload: a refusal delivers no
    files)."""
    ways = [t for t in wf.outgoing(state) if t.target == nxt and not t.stays
            and t.objection is None]
    return sorted(ways, key=lambda t: (t.outcome is not None, t.sla == "pause",
                                       outcome == "ditolak" and t.needs("files")))[0]


def _everyone(office) -> list[str | None]:
    return [*office.staff, "pemohon1", "pemohon2", None,
            office.opd["dinas-kesehatan"]["admin"], office.opd["dinas-pendidikan"]["admin"]]


def _may(office, user: str | None, t: wflib.Transition, routed: bool) -> bool:
    wf = settings.workflow()
    roles = {office.staff[user]} if user in office.staff else set()
    if user == "pemohon1":
        roles.add(wflib.REQUESTER)
    if routed and user == office.opd["dinas-kesehatan"]["admin"]:
        roles.add(wflib.OPD)
    if t.actor not in roles:
        return False
    return not t.assignee_only or (t.actor == wf.assignee_position and user == "staf1")


def _fire(user: str, rid: str, t: wflib.Transition, inputs: dict) -> dict:
    version = as_sysadmin("statrequest_show", id=rid)["version"]
    return act(user, "statrequest_transition", id=rid, transition=t.name, version=version,
               **inputs)


def _walk_main_path(office, rid: str, outcome: str, check_others: bool = False) -> list[str]:
    """Fire the main path of the active workflow on `rid`; with `check_others`, everybody
    else is refused each step first (nothing written). Returns the transitions fired."""
    wf = settings.workflow()
    path = wf.main_path()
    fired, routed = [], False
    for state, nxt in zip(path, path[1:], strict=False):
        t = _forward(wf, state, nxt, outcome)
        user = person_for(office, t.actor)
        if check_others:
            for other in _everyone(office):
                if other == user or _may(office, other, t, routed):
                    continue
                before = as_sysadmin("statrequest_show", id=rid)
                with pytest.raises((tk.NotAuthorized, tk.ValidationError)):
                    _fire(other, rid, t, _inputs(t, office, outcome))
                after = as_sysadmin("statrequest_show", id=rid)
                assert (after["state"], after["version"]) == (before["state"],
                                                              before["version"]), other
        done = _fire(user, rid, t, _inputs(t, office, outcome))
        assert done["state"] == nxt, (t.name, done["state"])
        routed = routed or t.needs("opd")
        fired.append(t.name)
    return fired


def _signed_letter(rid: str) -> bytes:
    import ckan.model as model

    from ckanext.statrequest.lib import attachments
    from ckanext.statrequest.model import Attachment

    shown = act("pemohon1", "statrequest_show", id=rid)
    (letter,) = [a for a in shown["attachments"] if a["kind"] == "signed_reply"]
    return b"".join(attachments.read(model.Session.get(Attachment, letter["id"]).file_id))


def _roots(test_pki):
    from asn1crypto import pem, x509

    with open(test_pki["root"], "rb") as f:
        _, _, der = pem.unarmor(f.read())
    return [x509.Certificate.load(der)]


@both
@pytest.mark.parametrize("outcome", ["dipenuhi", "dipenuhi_sebagian", "ditolak"])
def test_the_main_path_end_to_end_with_the_letter_signed_as_the_workflow_says(
        regency, office, outcome, test_pki):
    from ckanext.statrequest.lib import letters

    wf = settings.workflow()
    rid = submit()["id"]
    fired = _walk_main_path(office, rid, outcome, check_others=outcome == "dipenuhi")

    done = act("pemohon1", "statrequest_show", id=rid)
    assert wf.is_final(done["state"]) and wf.state(done["state"]).panel == "answer"
    assert done["outcome"] == outcome and done["closed_at"]
    events = act(person_for(office, wf.letter_signer()), "statrequest_event_list", id=rid)
    assert [e["transition"] for e in events][1:] == fired
    public = {e["transition"] for e in act("pemohon1", "statrequest_event_list", id=rid)}
    assert {e["visibility"] for e in act("pemohon1", "statrequest_event_list", id=rid)} == {
        "public"}
    assert wf.signing_transition().name in public

    # the letter: one paraf per paraf position in order, then the signer's TTE, all valid
    pdf = _signed_letter(rid)
    verdict = verify_pdf(pdf, _roots(test_pki))  # pyHanko validation
    assert verdict.status == "valid", verdict.reasons
    paraf = wf.paraf_positions()
    signatures = [s for s in verdict.signers if s.kind == "signature"]
    assert [s.field for s in signatures] == [*(PARAF1, PARAF2)[:len(paraf)], TTE]
    for s, position in zip(signatures, [*paraf, wf.letter_signer()], strict=True):
        assert s.valid and s.intact and s.trusted
        assert letters.position_title(position) in (s.reason or ""), (s.field, s.reason)
    final = signatures[-1]
    behalf = wf.letter_on_behalf_of()
    (sign_event,) = [e for e in events if e["transition"] == wf.signing_transition().name]
    assert sign_event["data"]["signer"]["certificate_subject"] == final.subject
    text = pdf_text(pdf)
    for position in paraf:
        assert letters.position_title(position) in text
    unsigned = set(wf.positions) - {*paraf, wf.letter_signer(), behalf}
    for position in unsigned:  # e.g. no Secretary in the paraf table of the PPID desk's letter
        assert f"Paraf {letters.position_title(position)}" not in (final.reason or "")
    if behalf:
        assert f"a.n. {letters.position_title(behalf)}" in final.reason
        assert f"a.n. {letters.position_title(behalf)}" in text
        assert sign_event["data"]["atas_nama"]["position"] == behalf
    else:
        assert "a.n." not in text and "atas_nama" not in sign_event["data"]
    # the regency's own letterhead and number pattern
    for line in tk.aslist(settings.get("letter.agency_lines", ""), sep="|"):
        assert " ".join(line.split()) in text
    if settings.get("workflow_file"):
        assert "PPID-DKISP" in text
    if outcome != "dipenuhi":
        assert "Pasal 17" in text or "pasal 17" in text.lower()


@both
def test_asked_for_changes_resubmitted_then_withdrawn(regency, office, make_app):
    wf = settings.workflow()
    (asking,) = [t for t in wf.outgoing(wf.initial) if t.sla == "pause"]
    waiting = asking.target
    assert wf.state(waiting).panel == "requester_changes"
    rid = submit()["id"]
    ref = act("pemohon1", "statrequest_show", id=rid)["tracking_number"]
    _fire(person_for(office, asking.actor), rid, asking,
          {"note": "Surat permohonan belum ditandatangani."})
    app = make_app()
    app.set_session_user("pemohon1")
    page = app.get(f"/permintaan-data/{ref}").body
    assert 'id="asked-of-you"' in page and "Surat permohonan belum ditandatangani." in page
    app.set_session_user(person_for(office, asking.actor))
    page = app.get(f"/permintaan-data/{ref}").body
    assert 'id="asked-of-requester"' in page and 'id="asked-of-you"' not in page

    (resubmit,) = [t for t in wf.outgoing(waiting) if t.target == wf.initial]
    assert _fire("pemohon1", rid, resubmit, {})["state"] == wf.initial
    (withdraw,) = [t for t in wf.outgoing(wf.initial) if t.actor == wflib.REQUESTER
                   and wf.is_final(t.target)]
    gone = _fire("pemohon1", rid, withdraw, {"confirmed": "1"})
    assert wf.is_final(gone["state"]) and wf.state(gone["state"]).panel is None


@both
def test_the_answer_page_offers_the_downloads(regency, office, make_app):
    rid = submit()["id"]
    _walk_main_path(office, rid, "dipenuhi")
    ref = act("pemohon1", "statrequest_show", id=rid)["tracking_number"]
    app = make_app()
    app.set_session_user("pemohon1")
    page = app.get(f"/permintaan-data/{ref}").body
    assert 'id="downloads"' in page and RESULT_NAME in page


@pytest.mark.parametrize("regency", ["ppid_desk"], indirect=True)
def test_the_ppid_desk_asks_the_opd_twice_at_most(regency, office):
    wf = settings.workflow()
    rid = submit()["id"]
    path = wf.main_path()
    routing = next(t for t in wf.transitions.values() if t.needs("opd") and t.actor != wflib.OPD)
    # up to the first check of the OPD's data
    for state, nxt in zip(path, path[1:], strict=False):
        t = _forward(wf, state, nxt)
        _fire(person_for(office, t.actor), rid, t, _inputs(t, office, "dipenuhi"))
        if t.actor == wflib.OPD:
            break
    checking = act("staf1", "statrequest_show", id=rid)["state"]
    assert checking not in routing.sources and wf.state(checking).holder == wf.assignee_position

    def again(state: str) -> list[wflib.Transition]:  # back to an OPD from a check
        return [t for t in wf.outgoing(state) if wf.state(t.target).holder == wflib.OPD]

    (second,) = again(checking)
    _fire("staf1", rid, second, {"note": "Mohon data per kecamatan."})
    (answer,) = [t for t in wf.outgoing(second.target) if t.needs("files")]
    _fire(person_for(office, wflib.OPD), rid, answer, _inputs(answer, office, "dipenuhi"))
    last_check = act("staf1", "statrequest_show", id=rid)["state"]
    assert last_check != checking and again(last_check) == []  # no third round
    offered = {x["name"] for x in act("staf1", "statrequest_available_transitions", id=rid)}
    assert offered and not offered & {t.name for t in again(checking)}
    drafting = next(t for t in wf.outgoing(last_check) if t.letter == "draft")
    assert drafting.name in offered
