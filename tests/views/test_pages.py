"""Portal pages through CKAN's test client: who may open which page, forms, escaping, CSRF."""
from __future__ import annotations

import pytest
from support import act, submit

pytestmark = pytest.mark.usefixtures("with_plugins")


def _as(app, user):
    if user:
        app.set_session_user(user)
    return app


@pytest.mark.parametrize("path,allowed,refused", [
    ("/permintaan-data/kotak-masuk", ["sekretaris", "admin-kesehatan", "pemohon1"], [None]),
    ("/permintaan-data/semua", ["kasi"], ["pemohon1", "admin-kesehatan", None]),
    ("/permintaan-data/admin/", ["kadis"], ["sekretaris", "pemohon1", None]),
    ("/permintaan-data/opd/dinas-kesehatan", ["admin-kesehatan"], ["admin-pendidikan", "pemohon1", None]),
    ("/permintaan-data/saya", ["pemohon1"], [None]),
    ("/permintaan-data/baru", ["pemohon1"], []),  # a visitor is sent to log in: test_journeys
])
def test_page_access(make_app, office, path, allowed, refused):
    for user in allowed:
        assert _as(make_app(), user).get(path).status_code == 200, user
    for user in refused:
        assert _as(make_app(), user).get(path, status=403).status_code == 403, user


def test_request_page_access_and_personal_data(make_app, office):
    r = submit()
    url = f"/permintaan-data/{r['tracking_number']}"
    staff = _as(make_app(), "sekretaris").get(url).body
    assert "6104012345678901" in staff
    assert "Cetak lembar disposisi" in staff
    mine = _as(make_app(), "pemohon1").get(url).body
    assert "6104012345678901" in mine and "Cetak lembar disposisi" not in mine
    for user in ("pemohon2", "admin-pendidikan", None):
        _as(make_app(), user).get(url, status=403)
    _as(make_app(), "pemohon1").get(f"{url}/lembar-disposisi", status=403)
    sheet = _as(make_app(), "kasi").get(f"{url}/lembar-disposisi").body
    assert "Lembar disposisi" in sheet and r["tracking_number"] in sheet


def test_script_in_a_request_is_shown_as_text(make_app, office):
    import ckan.model as model

    from ckanext.statrequest.model import Request

    r = submit()
    row = model.Session.get(Request, r["id"])
    row.description = '<script>alert("x")</script>'  # as if it slipped past validation
    model.Session.commit()
    body = _as(make_app(), "sekretaris").get(f"/permintaan-data/{r['tracking_number']}").body
    assert '<script>alert("x")</script>' not in body
    assert "&lt;script&gt;" in body


def test_form_shows_errors_beside_fields_and_keeps_input(make_app, office):
    app = _as(make_app(), "pemohon1")
    res = app.post("/permintaan-data/baru", data={
        "requester_name": "Dewi", "identity_type": "nik", "identity_number": "12",
        "category": "masyarakat_umum", "email": "dewi@example.test",
        "title": "Data <b>tebal</b>", "description": "Jumlah penduduk", "purpose": "Riset",
    })
    assert res.status_code == 200
    assert 'id="identity_number-error"' in res.body
    assert 'id="title-error"' in res.body
    assert 'id="identity_document-error"' in res.body
    assert 'value="Dewi"' in res.body
    assert act("sekretaris", "statrequest_list")["count"] == 0


def test_admin_pages_manage_positions_and_holidays(make_app, office):
    app = _as(make_app(), "kadis")
    res = app.post("/permintaan-data/admin/libur", data={
        "day": "2026-12-31", "name": "Cuti Bersama Tahun Baru", "kind": "cuti_bersama"})
    assert "Cuti Bersama Tahun Baru" in res.body
    res = app.post("/permintaan-data/admin/libur", data={"day": "31/12/2026", "name": "x",
                                                         "kind": "cuti_bersama"})
    assert 'id="day-error"' in res.body
    res = app.post("/permintaan-data/admin/jabatan", data={"position": "staf", "user": "pemohon2"})
    assert 'id="user-error"' in res.body
    assert [p for p in act("kadis", "statrequest_position_list") if p["user_name"] == "pemohon2"] == []


def test_dashboard_and_navigation_link_the_service(make_app, office):
    body = _as(make_app(), "pemohon1").get("/dashboard/datasets").body
    assert "/permintaan-data/saya" in body
    org = _as(make_app(), "admin-kesehatan").get("/organization/dinas-kesehatan").body
    assert "/permintaan-data/opd/dinas-kesehatan" in org
    other = _as(make_app(), "admin-pendidikan").get("/organization/dinas-kesehatan").body
    assert "/permintaan-data/opd/dinas-kesehatan" not in other


def test_track_page_shows_only_the_state(make_app, office):
    r = submit()
    app = make_app()
    found = app.post("/permintaan-data/lacak", data={
        "nomor": r["tracking_number"], "email": "DEWI@example.test"}).body
    assert 'id="track-result"' in found and "Diajukan" in found
    assert "Dewi" not in found.split('id="track-result"')[1][:400]
    wrong = app.post("/permintaan-data/lacak", data={
        "nomor": r["tracking_number"], "email": "x@example.test"}).body
    assert 'id="track-result"' not in wrong


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", True)
def test_posts_without_csrf_token_are_refused(make_app, office):
    r = submit()
    app = _as(make_app(), "sekretaris")
    res = app.post(f"/permintaan-data/{r['tracking_number']}/aksi", status=400, data={
        "transition": "teruskan_ke_kadis", "version": "1"})
    assert res.status_code == 400
    assert act("sekretaris", "statrequest_show", id=r["id"])["state"] == "diajukan"
    _as(make_app(), "kadis").post("/permintaan-data/admin/libur", status=400, data={
        "day": "2026-12-31", "name": "x", "kind": "cuti_bersama"})
    assert act(None, "statrequest_holiday_list") == []


def test_a_capped_total_is_shown_as_a_lower_bound(make_app, office, monkeypatch):
    """Past COUNT_CAP the list heading says "1.000+" (here the cap is 1: "1+"), not a number
    that looks exact; the pages still link on (#16)."""
    from ckanext.statrequest.lib import listing
    submit()
    submit()
    body = _as(make_app(), "kasi").get("/permintaan-data/semua").body
    assert "(2)" in body and "(2+)" not in body
    monkeypatch.setattr(listing, "COUNT_CAP", 1)
    assert "(1+)" in _as(make_app(), "kasi").get("/permintaan-data/semua").body
