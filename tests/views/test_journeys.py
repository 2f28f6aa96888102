"""The way into the service and around its pages (issue #15): a visitor who wants to submit a
request is led through CKAN's login (or registration) and back to the form, each role lands
where its work is after logging in, and one-click buttons that cannot be undone ask first."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from support import USER_PASSWORD, act, submit, walk

pytestmark = pytest.mark.usefixtures("with_plugins")

FORM = "/permintaan-data/baru"


def _login(app, user: str, query: str = "", password: str = USER_PASSWORD) -> str:
    """Log in through CKAN's own login form, as a browser does: where it sends the user."""
    res = app.post(f"/user/login{query}", data={"login": user, "password": password},
                   follow_redirects=False)
    assert res.status_code == 302, res.body[:500]
    return urlsplit(res.location).path


def _landing(app, user: str, password: str = USER_PASSWORD) -> str:
    """Where a login without a destination ends: CKAN's route after login, followed."""
    path = _login(app, user, password=password)
    while path.startswith(("/user/me", "/permintaan-data/mulai")):
        path = urlsplit(app.get(path, follow_redirects=False).location).path
    return path


def test_a_visitor_is_sent_to_the_login_and_back_to_the_form(make_app, office):
    app = make_app()
    landing = app.get("/permintaan-data/").body
    assert f'href="{FORM}"' in landing  # the "Ajukan permintaan" button
    res = app.get(FORM, follow_redirects=False)
    assert res.status_code == 302
    login = urlsplit(res.location)
    assert login.path == "/user/login"
    assert parse_qs(login.query)["came_from"] == [FORM]
    page = app.get(f"{login.path}?{login.query}").body
    assert "Silakan masuk, atau buat akun, untuk mengajukan permintaan data." in page
    assert _login(app, "pemohon1", f"?{login.query}") == FORM
    form = app.get(FORM)
    assert form.status_code == 200 and "Ajukan permintaan data" in form.body
    # back at the form, the way back is used up: the next login goes to the user's work
    app.get("/user/_logout")
    assert _landing(app, "pemohon1") == "/dashboard/datasets"


def test_in_english_the_visitor_is_told_in_english(make_app, office):
    res = make_app().get("/en" + FORM, follow_redirects=False)
    assert parse_qs(urlsplit(res.location).query)["came_from"] == ["/en" + FORM]


@pytest.mark.ckan_config("ckan.auth.create_user_via_web", True)  # as in the demo
def test_a_visitor_who_registers_comes_back_to_the_form(make_app, office):
    app = make_app()
    app.get(FORM, follow_redirects=False)
    res = app.post("/user/register", data={
        "name": "warga-baru", "fullname": "Warga Baru", "email": "warga@example.test",
        "password1": "Sandi-Warga-2026", "password2": "Sandi-Warga-2026"},
        follow_redirects=False)
    assert res.status_code == 302, res.body[:800]
    path = urlsplit(res.location).path
    while path != FORM and path.startswith(("/user/me", "/permintaan-data/mulai")):
        path = urlsplit(app.get(path, follow_redirects=False).location).path
    assert path == FORM
    # the way back is used once: the next login goes where the user's work is
    app.get("/user/_logout")
    assert _landing(app, "warga-baru", "Sandi-Warga-2026") == "/dashboard/datasets"


def test_each_role_lands_where_its_work_is(make_app, office):
    for official in ("sekretaris", "kasi", "staf1"):
        assert _landing(make_app(), official) == "/permintaan-data/kotak-masuk", official
    # a user with nothing to do in the service keeps CKAN's dashboard
    for user in ("pemohon1", "admin-kesehatan"):
        assert _landing(make_app(), user) == "/dashboard/datasets", user
    r = submit()  # pemohon1's request, routed to Dinas Kesehatan
    walk(office, r["id"], "teruskan_ke_opd")
    assert _landing(make_app(), "pemohon1") == "/permintaan-data/saya"
    assert _landing(make_app(), "admin-kesehatan") == "/permintaan-data/kotak-masuk"
    assert _landing(make_app(), "pemohon2") == "/dashboard/datasets"


def test_the_start_page_asks_a_visitor_to_log_in(make_app, office):
    res = make_app().get("/permintaan-data/mulai", follow_redirects=False)
    assert urlsplit(res.location).path == "/user/login"


@pytest.mark.ckan_config("ckan.auth.route_after_login", "dataset.search")
def test_a_portal_that_chose_its_own_route_after_login_keeps_it(make_app, office):
    assert _login(make_app(), "sekretaris") != "/permintaan-data/mulai"


def test_destructive_buttons_ask_for_confirmation(make_app, office):
    admin = make_app()
    admin.set_session_user("kadis")
    admin.post("/permintaan-data/admin/libur", data={
        "day": "2026-12-31", "name": "Cuti Bersama Tahun Baru", "kind": "cuti_bersama"})
    page = admin.get("/permintaan-data/admin/").body
    for button in ("revoke", "revoke-credential", "delete-holiday"):
        assert f'data-confirm="{button}"' in page, button
    assert page.count('data-module="confirm-action"') >= 3
    assert "Hapus hari ini? Tenggat permintaan yang masih berjalan akan dihitung ulang." in page
    r = submit()
    requester = make_app()
    requester.set_session_user("pemohon1")
    read = requester.get(f"/permintaan-data/{r['tracking_number']}").body
    cancel = read.split('data-transition="batalkan"', 1)[1].split("</form>", 1)[0]
    assert 'data-module="confirm-action"' in cancel
    assert 'data-module-title="Batalkan permohonan"' in cancel
    assert "Langkah ini tidak dapat diurungkan. Lanjutkan?" in cancel
    # steps that move a request on do not ask
    staff = make_app()
    staff.set_session_user("sekretaris")
    read = staff.get(f"/permintaan-data/{r['tracking_number']}").body
    forward = read.split('data-transition="teruskan_ke_kadis"', 1)[1].split("</form>", 1)[0]
    assert "confirm-action" not in forward


@pytest.mark.usefixtures("with_plugins")
def test_the_header_shows_how_much_waits_for_me(app, office):
    """The inbox is one click from every page, with its count: the Secretary sees the new
    request, the requester (nothing waits for them) and visitors see no badge."""
    submit()
    app.set_session_user("sekretaris")
    body = app.get("/dataset/").body
    assert 'id="header-inbox-count">1<' in body
    app.set_session_user("kadis")
    assert 'id="header-inbox-count">0<' in app.get("/permintaan-data/").body
    app.set_session_user("pemohon1")
    assert 'id="header-inbox"' not in app.get("/permintaan-data/").body


@pytest.mark.usefixtures("with_plugins")
def test_assigning_staff_shows_their_workload(app, office):
    """The Section Head sees how many open requests each staff member already holds."""
    walk(office, submit()["id"], "tugaskan_staf")  # staf1 now holds one open request
    rid = walk(office, submit()["id"], "disposisi_ke_kasi")
    number = act("kasi", "statrequest_show", id=rid)["tracking_number"]
    app.set_session_user("kasi")
    body = app.get(f"/en/permintaan-data/{number}").body
    assert "Staf1 — 1 open requests" in body


@pytest.mark.usefixtures("with_plugins")
def test_each_step_says_what_was_done_and_a_stale_step_says_why_not(app, office):
    """The flash names the step and the state the request is now in (not a generic 'moved
    on'); a page left open while someone else acted shows why nothing happened."""
    r = submit()
    app.set_session_user("sekretaris")
    page = app.post(f"/permintaan-data/{r['tracking_number']}/aksi", data={
        "transition": "teruskan_ke_kadis", "version": "1"}, follow_redirects=True).body
    assert "Teruskan ke Kepala Dinas — selesai" in page
    assert "menunggu disposisi Kepala Dinas" in page
    # the same form posted again (version 1): the step is no longer offered
    page = app.post(f"/permintaan-data/{r['tracking_number']}/aksi", data={
        "transition": "teruskan_ke_kadis", "version": "1"}).body
    assert 'id="action-error"' in page
    assert act("sekretaris", "statrequest_show", id=r["id"])["version"] == 2


@pytest.mark.usefixtures("with_plugins")
def test_officials_preview_pdf_and_images_in_the_browser(app, office):
    """The Secretary opens the letter and the identity scan in the browser's viewer (inline,
    locked down by CSP); a plain download stays an attachment; the opening is still logged."""
    r = submit()
    app.set_session_user("sekretaris")
    page = app.get(f"/permintaan-data/{r['tracking_number']}").body
    assert page.count('class="small ms-1 statrequest-preview"') == 3  # PNG + two PDFs
    files = {a["kind"]: a for a in act("sekretaris", "statrequest_show", id=r["id"])["attachments"]}
    scan = files["identity_document"]
    res = app.get(f"/permintaan-data/berkas/{scan['id']}?lihat=1")
    assert res.data.startswith(b"\x89PNG")  # the whole file, read to its end
    assert res.status_code == 200 and res.headers["Content-Disposition"].startswith("inline")
    assert "default-src 'none'" in res.headers["Content-Security-Policy"]
    plain = app.get(f"/permintaan-data/berkas/{scan['id']}")
    assert plain.data.startswith(b"\x89PNG")
    assert plain.headers["Content-Disposition"].startswith("attachment")
    log = act("sekretaris", "statrequest_identity_access_list", id=r["id"])
    assert len([e for e in log if e["kind"] == "document"]) == 2
    app.set_session_user("pemohon1")
    assert "statrequest-preview" not in app.get(f"/permintaan-data/{r['tracking_number']}").body
