"""Data an OPD sent outside the portal (email, paper letter, flash disk): the assigned staff
member uploads it on that OPD's behalf with `unggah_hasil_atas_nama`, and the record says so."""
from __future__ import annotations

import io

import ckan.model as model
import ckantoolkit as tk
import pytest
from sqlalchemy import func, select
from support import RESULT_CSV, act, fire, submit, upload, walk

from ckanext.statrequest.model import Attachment, Event, Request

pytestmark = pytest.mark.usefixtures("with_plugins")

STEP = "unggah_hasil_atas_nama"


def _at_the_opd(office) -> str:
    """A request routed to Dinas Kesehatan, assigned to staf1, waiting for the data."""
    return walk(office, submit()["id"], "teruskan_ke_opd")


def _written(rid: str) -> tuple:
    """What a refused step must leave untouched: state, version, events, files."""
    request = model.Session.get(Request, rid)
    model.Session.refresh(request)
    count = lambda table: model.Session.scalar(  # noqa: E731
        select(func.count()).select_from(table).where(table.request_id == rid))
    return request.state, request.version, count(Event), count(Attachment)


def test_staff_upload_on_behalf_of_an_opd_moves_the_request_on(office):
    dinkes = office.opd["dinas-kesehatan"]
    rid = _at_the_opd(office)
    assert STEP in {t["name"] for t in act("staf1", "statrequest_available_transitions", id=rid)}

    moved = fire("staf1", rid, STEP, opd=["dinas-kesehatan"], channel="email",
                 note="Dikirim Dinkes lewat email tanggal 2 Desember.",
                 result=upload("nakes-2025.csv", RESULT_CSV))

    assert moved["state"] == "pemeriksaan_staf"  # as after the OPD's own upload
    (result,) = [a for a in moved["attachments"] if a["kind"] == "result"]
    row = model.Session.get(Attachment, result["id"])
    assert row.uploaded_by == model.User.get("staf1").id
    assert row.organization_id == dinkes["id"]
    event = act("staf1", "statrequest_event_list", id=rid)[-1]
    assert (event["transition"], event["actor_role"], event["actor"]) == (STEP, "staf", "Staf1")
    assert event["data"]["on_behalf_of_opd"] == dinkes["id"]
    assert event["data"]["channel"] == "email"
    assert event["data"]["uploaded_by"] == model.User.get("staf1").id
    assert event["data"]["files"] == [result["id"]]
    assert "opd" not in event["data"]  # not a new routing (statistics count routings by it)
    shown = event["on_behalf_of_opd"]
    assert (shown["organization"], shown["channel"]) == ("Dinas Kesehatan", "email")
    assert "Dinas Kesehatan" in shown["text"] and "email" in shown["text"]
    # the OPD sees its data and the step taken for it; staff go on checking the data
    opd_events = act(dinkes["admin"], "statrequest_event_list", id=rid)
    assert opd_events[-1]["on_behalf_of_opd"]["organization"] == "Dinas Kesehatan"
    assert result["id"] in {a["id"] for a in act(dinkes["admin"], "statrequest_show",
                                                 id=rid)["attachments"]}
    assert "hasil_sesuai" in {
        t["name"] for t in act("staf1", "statrequest_available_transitions", id=rid)}
    # the requester is not shown the internal step
    assert STEP not in {e["transition"] for e in act("pemohon1", "statrequest_event_list", id=rid)}


@pytest.mark.parametrize("user", ["staf2", "kasi", "pemohon1", "admin-pendidikan",
                                  "admin-kesehatan", None])
def test_only_the_assigned_staff_member_may_upload_on_behalf(office, user):
    """Another staff member, the Section Head, the requester, the admin of an OPD the request
    is not routed to, the routed OPD itself (it uploads as itself) and a visitor."""
    rid = _at_the_opd(office)
    before = _written(rid)
    assert STEP not in {t["name"] for t in _offered(user, rid)}
    with pytest.raises(tk.NotAuthorized):
        fire(user, rid, STEP, opd=["dinas-kesehatan"], channel="surat",
             result=upload("nakes-2025.csv", RESULT_CSV))
    assert _written(rid) == before


def _offered(user: str | None, rid: str) -> list[dict]:
    try:
        return act(user, "statrequest_available_transitions", id=rid)
    except tk.NotAuthorized:
        return []


@pytest.mark.parametrize(("inputs", "field"), [
    ({"opd": ["dinas-pendidikan"], "channel": "email"}, "opd"),  # an OPD not asked
    ({"opd": ["dinas-kesehatan", "dinas-pendidikan"], "channel": "email"}, "opd"),
    ({"channel": "email"}, "opd"),
    ({"opd": ["dinas-kesehatan"]}, "channel"),
    ({"opd": ["dinas-kesehatan"], "channel": "merpati_pos"}, "channel"),
    ({"opd": ["dinas-kesehatan"], "channel": "email", "result": None}, "files"),
])
def test_wrong_or_missing_inputs_are_refused_and_nothing_is_written(office, inputs, field):
    rid = _at_the_opd(office)
    before = _written(rid)
    given = {"result": upload("nakes-2025.csv", RESULT_CSV), **inputs}
    if given["result"] is None:
        del given["result"]
    with pytest.raises(tk.ValidationError) as err:
        fire("staf1", rid, STEP, **given)
    assert field in err.value.error_dict
    assert _written(rid) == before


def test_the_request_page_offers_the_form_and_shows_the_step(make_app, office):
    rid = _at_the_opd(office)
    number = act("staf1", "statrequest_show", id=rid)["tracking_number"]
    app = make_app()
    app.set_session_user("staf1")
    page = app.get(f"/permintaan-data/{number}").body
    form = page.split(f'data-transition="{STEP}"')[1].split("</form>")[0]
    assert 'name="channel"' in form and 'value="email"' in form
    assert "Dinas Kesehatan" in form and "Dinas Pendidikan" not in form  # routed OPD only
    dinkes = office.opd["dinas-kesehatan"]["id"]
    res = app.post(f"/permintaan-data/{number}/aksi", data={
        "transition": STEP, "version": str(act("staf1", "statrequest_show", id=rid)["version"]),
        "from_opd": dinkes, "channel": "surat", "note": "Surat Dinkes no. 440/12.",
        "result": (io.BytesIO(RESULT_CSV), "nakes-2025.csv")}, follow_redirects=True)
    assert act("staf1", "statrequest_show", id=rid)["state"] == "pemeriksaan_staf"
    assert "Diunggah oleh staf atas nama Dinas Kesehatan, diterima melalui surat" in res.body
