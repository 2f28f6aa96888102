"""Corrections of a request's details (statrequest_update) while it waits for the requester's
changes: every change is one public event, field -> old/new (the identity number masked),
shown in the timeline; refused with nothing written in another state, to anyone else and for
invalid values."""
from __future__ import annotations

import ckan.model as model
import ckantoolkit as tk
import pytest
from sqlalchemy import func, select
from support import act, as_sysadmin, fire, submit

from ckanext.statrequest import settings
from ckanext.statrequest.core.workflow import REQUESTER
from ckanext.statrequest.model import Event, Request

pytestmark = pytest.mark.usefixtures("with_plugins")

OLD_NIK, NEW_NIK = "6104012345678901", "6104019876543210"  # support.request_data()


def ask_for_changes(rid: str) -> None:
    """Send the request back to its requester, by the workflow's transition for it."""
    wf = settings.workflow()
    back = next(t for t in wf.outgoing(wf.initial)
                if wf.states[t.target_of(wf.initial)].holder == REQUESTER)
    fire("sekretaris", rid, back.name,
         note="Judul dan NIK perlu diperbaiki.")


def correct(user: str | None, rid: str, **fields) -> dict:
    version = as_sysadmin("statrequest_show", id=rid)["version"]
    return act(user, "statrequest_update", id=rid, version=version, **fields)


def snapshot(rid: str) -> tuple:
    model.Session.remove()
    r = model.Session.get(Request, rid)
    events = model.Session.scalar(select(func.count()).select_from(Event)
                                  .where(Event.request_id == rid))
    return (r.version, r.title, r.identity_number, r.identity_number_hash, r.period, r.state,
            events)


def test_the_requester_corrects_the_details_and_the_timeline_shows_each_change(office):
    rid = submit()["id"]
    ask_for_changes(rid)
    state = act("pemohon1", "statrequest_show", id=rid)["state"]
    corrected = correct("pemohon1", rid, title="Jumlah bidan per puskesmas 2025",
                        period="2025", identity_number=NEW_NIK, category="dunia_usaha",
                        description="Data jumlah dokter, bidan dan perawat per puskesmas.")
    assert corrected["title"] == "Jumlah bidan per puskesmas 2025"
    assert corrected["period"] == "2025" and corrected["identity_number"] == NEW_NIK
    assert corrected["state"] == state  # still waiting for the requester to resubmit

    for user in ("pemohon1", "sekretaris"):
        (event,) = [e for e in act(user, "statrequest_event_list", id=rid)
                    if e.get("changes")]
        assert event["visibility"] == "public"
        changes = {c["field"]: c for c in event["changes"]}
        # only what changed (the description was sent unchanged), in form order
        assert list(changes) == ["identity_number", "category", "title", "period"]
        assert (changes["title"]["old"], changes["title"]["new"]) == (
            "Jumlah tenaga kesehatan per puskesmas 2025", "Jumlah bidan per puskesmas 2025")
        assert (changes["period"]["old"], changes["period"]["new"]) == ("2023-2025", "2025")
        # the identity number is masked in the log, for everyone
        assert changes["identity_number"]["old"] == "6104********8901"
        assert changes["identity_number"]["new"] == "6104********3210"
        assert changes["category"]["new"] in ("Business", "Dunia usaha")
    model.Session.remove()
    raw = model.Session.scalars(select(Event).where(Event.request_id == rid)).all()
    assert not [e for e in raw if OLD_NIK in str(e.data) or NEW_NIK in str(e.data)]

    # the new number is the one found by an exact search (its keyed hash was renewed)
    assert act("sekretaris", "statrequest_list", q=NEW_NIK)["count"] == 1
    assert act("sekretaris", "statrequest_list", q=OLD_NIK)["count"] == 0
    # and the corrected request goes on as usual
    wf = settings.workflow()
    resubmit = next(t for t in wf.outgoing(state) if t.actor == REQUESTER
                    and t.target_of(state) == wf.initial)
    assert fire("pemohon1", rid, resubmit.name)["state"] == wf.initial


def test_nothing_changed_writes_nothing(office):
    rid = submit()["id"]
    ask_for_changes(rid)
    before = snapshot(rid)
    correct("pemohon1", rid, title="Jumlah tenaga kesehatan per puskesmas 2025 ")  # same
    assert snapshot(rid) == before


def test_refused_outside_the_requesters_state_and_to_anyone_else(office):
    rid = submit()["id"]
    before = snapshot(rid)
    with pytest.raises(tk.NotAuthorized) as err:  # still with the Secretary
        correct("pemohon1", rid, title="Judul baru")
    assert "only while it waits for your changes" in str(err.value) or "hanya" in str(err.value)
    ask_for_changes(rid)
    before = snapshot(rid)
    for user in ("pemohon2", "sekretaris", "kasi", "admin-kesehatan", None):
        with pytest.raises(tk.NotAuthorized):
            correct(user, rid, title="Judul lain")
    with pytest.raises(tk.NotAuthorized):  # CKAN lets a sysadmin pass; the action does not
        as_sysadmin("statrequest_update", id=rid, version=before[0], title="Judul lain")
    with pytest.raises(tk.ValidationError):  # an older version: somebody acted first
        act("pemohon1", "statrequest_update", id=rid, version=before[0] - 1, title="Lama")
    assert snapshot(rid) == before


@pytest.mark.parametrize("fields", [
    {"title": ""},
    {"identity_number": "12"},  # a NIK has 16 digits
    {"identity_type": "nik", "identity_number": "A1234567"},
    {"title": "x" * 201},
    {"description": "y" * 100_000},
    {"email": "bukan-alamat"},
    {"category": "presiden"},
    {"title": "Judul baru", "phone": "telepon saya"},  # one bad field: nothing is written
])
def test_invalid_values_are_refused_with_nothing_written(office, fields):
    rid = submit()["id"]
    ask_for_changes(rid)
    before = snapshot(rid)
    with pytest.raises(tk.ValidationError) as err:
        correct("pemohon1", rid, **fields)
    assert set(err.value.error_dict) & set(fields)
    assert snapshot(rid) == before


def test_a_personal_change_is_not_shown_to_a_routed_agency(office):
    """A routed OPD sees the request's public events, but not a requester's personal data."""
    from ckanext.statrequest.lib import access
    from ckanext.statrequest.logic import dictization as dz

    rid = submit()["id"]
    ask_for_changes(rid)
    correct("pemohon1", rid, phone="0812-0000-1111", title="Judul baru")
    model.Session.remove()
    event = model.Session.scalars(select(Event).where(
        Event.request_id == rid, Event.data.has_key("changes"))).one()
    request = model.Session.get(Request, rid)
    opd = access.View(access.actor_for("admin-kesehatan"), request,
                      frozenset({office.opd["dinas-kesehatan"]["id"]}))
    shown = {c["field"]: c for c in dz.event_dict(event, opd, settings.workflow())["changes"]}
    assert shown["phone"]["hidden"] and shown["phone"]["new"] is None
    assert shown["title"]["new"] == "Judul baru"
    assert "changes" not in dz.event_dict(event, opd, settings.workflow()).get("data", {})


def test_the_front_desk_corrects_a_request_without_an_account(office):
    from support import desk_data, make_front_desk

    desk = make_front_desk()
    registered = act(desk, "statrequest_register", **desk_data())
    rid = registered["id"]
    ask_for_changes(rid)
    corrected = correct(desk, rid, title="Judul dari loket")
    assert corrected["title"] == "Judul dari loket"
    (event,) = [e for e in act("sekretaris", "statrequest_event_list", id=rid)
                if e.get("changes")]
    assert event["actor_role"] == settings.workflow().front_desk_position
    for user in ("pemohon1", "staf1"):  # not the requester, not the desk
        with pytest.raises(tk.NotAuthorized):
            correct(user, rid, title="Judul lain")
    # a request with an account is the requester's own to correct, not the desk's
    own = submit()["id"]
    ask_for_changes(own)
    with pytest.raises(tk.NotAuthorized):
        correct(desk, own, title="Judul lain")
