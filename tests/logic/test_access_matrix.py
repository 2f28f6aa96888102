"""Every transition × every kind of actor (requester, OPD admin, each position, others): only
the allowed succeed."""
from __future__ import annotations

import datetime as dt

import ckan.model as model
import ckantoolkit as tk
import pytest
from support import PASSPHRASE, act, as_sysadmin, pdf_bytes, submit, upload

from ckanext.statrequest import settings
from ckanext.statrequest.core import workflow as wflib
from ckanext.statrequest.model import Request, RequestOrganization

pytestmark = pytest.mark.usefixtures("with_plugins", "test_pki")

ACTORS = {
    # user: (roles it has on the request, is the assigned staff member)
    "pemohon1": ({"pemohon"}, False),
    "pemohon2": (set(), False),
    None: (set(), False),
    "sekretaris": ({"sekretaris"}, False),
    "kadis": ({"kepala_dinas"}, False),
    "kabid": ({"kepala_bidang"}, False),
    "kasi": ({"kepala_seksi"}, False),
    "staf1": ({"staf"}, True),
    "staf2": ({"staf"}, False),
    "admin-kesehatan": ({"opd"}, False),
    "admin-pendidikan": (set(), False),
}


def _transitions() -> list:
    """The steps fired through statrequest_transition, of both shipped workflows (the default
    SOP and workflows/ppid_desk.yaml): an objection's steps have their own actions
    (statrequest_objection_*; tests/logic/test_objection.py)."""
    from ckanext.statrequest.core.workflow import DEFAULT_PATH, Workflow, load_default

    ppid = Workflow.from_yaml(DEFAULT_PATH.parents[1] / "workflows" / "ppid_desk.yaml")
    return [pytest.param(regency, name, id=f"{regency}-{name}")
            for regency, wf in (("default", load_default()), ("ppid_desk", ppid))
            for name, t in wf.transitions.items() if not t.objection]


def _actors(office) -> dict:
    """ACTORS for the active workflow: the office's people hold its positions."""
    actors = {user: roles for user, roles in ACTORS.items()
              if not roles[0] - {"pemohon", "opd"}}
    actors.update({name: ({code}, name == "staf1") for name, code in office.staff.items()})
    return actors


def _inputs(t, office) -> dict:
    inputs: dict = {}
    for req in t.requires:
        if req.kind in ("note", "instruction"):
            inputs[req.kind] = "Catatan uji."
        elif req.kind == "assignee":
            inputs["assignee"] = "staf1"
        elif req.kind == "opd":
            inputs["opd"] = [office.opd["dinas-kesehatan"]["id"]]
        elif req.kind == "outcome":
            inputs["outcome"] = "dipenuhi"
        elif req.kind == "files":
            inputs["result"] = upload("hasil.csv", b"a,b\n1,2\n")
        elif req.kind == "signature":
            inputs["passphrase"] = PASSPHRASE
        elif req.kind == "channel":
            inputs["channel"] = "email"
    if t.outcome == "ditolak":  # a refusal names its ground (UU 14/2008 Pasal 17 huruf j)
        inputs["reason"] = "pasal17j"
    return inputs


def _request_in(state: str, office) -> str:
    rid = submit()["id"]
    request = model.Session.get(Request, rid)
    request.state = state
    request.assignee_id = model.User.get("staf1").id
    request.outcome = "dipenuhi"  # decided by staff before any letter step
    model.Session.add(RequestOrganization(
        request_id=rid, organization_id=office.opd["dinas-kesehatan"]["id"], routed=True,
        routed_at=dt.datetime.now(dt.timezone.utc)))
    model.Session.commit()
    return rid


@pytest.mark.parametrize("regency,name", _transitions(), indirect=["regency"])
def test_only_the_allowed_actor_may_fire(regency, office, name):
    wf = settings.workflow()
    t = wf.transitions[name]
    rid = _request_in(t.sources[0], office)
    allowed_users = []
    for user, (roles, assignee) in _actors(office).items():
        allowed = t.actor in roles and (assignee or not t.assignee_only)
        try:
            offered = {x["name"] for x in act(user, "statrequest_available_transitions", id=rid)}
        except tk.NotAuthorized:
            offered = set()
        assert (name in offered) == allowed, (user, name)
        if allowed:
            allowed_users.append(user)
            continue
        version = as_sysadmin("statrequest_show", id=rid)["version"]
        with pytest.raises((tk.NotAuthorized, tk.ValidationError)):
            act(user, "statrequest_transition", id=rid, transition=name, version=version,
                **_inputs(t, office))
        after = as_sysadmin("statrequest_show", id=rid)
        assert (after["state"], after["version"]) == (t.sources[0], version), user

    assert len(allowed_users) == (1 if t.assignee_only or t.actor != wf.assignee_position
                                  else 2)
    if t.letter in ("paraf", "sign"):
        return  # needs a drafted letter; fired for real in test_workflow_walk
    user = allowed_users[0]
    version = as_sysadmin("statrequest_show", id=rid)["version"]
    done = act(user, "statrequest_transition", id=rid, transition=name, version=version,
               **_inputs(t, office))
    # a step `to: same` (the extension) leaves the request where it was
    assert done["state"] == (t.sources[0] if t.target == wflib.SAME_STATE else t.target)


def test_sysadmin_cannot_skip_the_workflow_but_can_repair(office):
    rid = submit()["id"]
    admin = office.sysadmin
    with pytest.raises(tk.NotAuthorized):
        act(admin, "statrequest_transition", id=rid, transition="teruskan_ke_kadis", version=1)
    with pytest.raises(tk.NotAuthorized):
        act("sekretaris", "statrequest_override", id=rid, state="selesai", version=1,
            note="Perbaikan data.")
    fixed = act(admin, "statrequest_override", id=rid, state="disposisi_kadis", version=1,
                note="Macet karena kesalahan sistem; dipindahkan manual.")
    assert fixed["state"] == "disposisi_kadis"
    events = act("sekretaris", "statrequest_event_list", id=rid)
    assert events[-1]["transition"] == "override"
    assert events[-1]["actor_role"] == "sysadmin"
    assert "manual" in events[-1]["note"]


def test_acting_official_is_recorded(office):
    as_sysadmin("organization_member_create", id="diskominfo", username="staf2", role="editor")
    as_sysadmin("statrequest_position_assign", position="sekretaris", user="staf2", acting=True,
                valid_from=dt.date.today().isoformat(),
                valid_to=(dt.date.today() + dt.timedelta(days=3)).isoformat())
    rid = submit()["id"]
    act("staf2", "statrequest_transition", id=rid, transition="teruskan_ke_kadis", version=1)
    (event,) = [e for e in act("sekretaris", "statrequest_event_list", id=rid)
                if e["transition"] == "teruskan_ke_kadis"]
    assert event["actor_role"] == "sekretaris"
    assert event["acting"] is True


def test_acting_assignment_outside_its_dates_gives_nothing(office):
    past = dt.date.today() - dt.timedelta(days=10)
    as_sysadmin("statrequest_position_assign", position="sekretaris", user="staf2", acting=True,
                valid_from=past.isoformat(), valid_to=(past + dt.timedelta(days=2)).isoformat())
    rid = submit()["id"]
    with pytest.raises(tk.NotAuthorized):
        act("staf2", "statrequest_transition", id=rid, transition="teruskan_ke_kadis", version=1)


def test_position_holder_who_left_diskominfo_loses_the_position(office):
    as_sysadmin("organization_member_delete", id="diskominfo", username="sekretaris")
    rid = submit()["id"]
    with pytest.raises(tk.NotAuthorized):
        act("sekretaris", "statrequest_show", id=rid)


def test_requester_resubmission_files_are_checked(office):
    rid = submit()["id"]
    act("sekretaris", "statrequest_transition", id=rid, transition="minta_perbaikan", version=1,
        note="Lengkapi.")
    with pytest.raises(tk.ValidationError) as err:
        act("pemohon1", "statrequest_transition", id=rid, transition="kirim_ulang", version=2,
            request_letter=upload("surat.pdf", b"MZ\x90\x00 not a pdf"))
    assert "request_letter" in err.value.error_dict
    assert as_sysadmin("statrequest_show", id=rid)["state"] == "perlu_perbaikan"
    done = act("pemohon1", "statrequest_transition", id=rid, transition="kirim_ulang", version=2,
               request_letter=upload("surat.pdf", pdf_bytes()))
    assert done["state"] == "diajukan"
