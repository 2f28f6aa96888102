"""Root causes behind findings 1, 2, 3 and 6 of the hardening issue.

1. A request failing in the database must not poison the next requests of other users: every
   number and date is bounded before SQL sees it, and every request ends with a rollback and
   a fresh session, whatever happened.
2. Anonymous callers of the API get a refusal (or the public answer), never a 500.
3. Malformed path and query values get 400/404 (the API: its 4xx), never a 500.
6. Every POST of the extension checks its own CSRF token, even after CKAN 2.12.0 exempted
   the view for everybody because an anonymous request reached it.
"""
from __future__ import annotations

import re

import ckan.logic as logic
import ckan.model as model
import pytest
import sqlalchemy as sa
from support import act, as_sysadmin, submit

pytestmark = pytest.mark.usefixtures("with_plugins")

HUGE = "100000000000000000000"  # beyond PostgreSQL's bigint


def _client(make_app, user: str | None = None):
    app = make_app()
    if user:
        app.set_session_user(user)
    return app


def _site_still_serves(app) -> None:
    """Another, anonymous visitor of the same running app (same process and thread, so the
    same database session): the home page and the dataset search answer."""
    other = app.test_client()  # its own cookie jar: nobody logged in
    assert other.get("/").status_code == 200
    assert other.get("/dataset/").status_code == 200


# --- finding 1: one request must not poison the next ones -----------------------------------

def test_huge_page_number_answers_400_and_does_not_poison_other_users(make_app, office):
    app = _client(make_app, "pemohon1")
    res = app.get(f"/permintaan-data/saya?page={HUGE}")
    assert res.status_code == 400
    assert "page" in res.body
    _site_still_serves(app)
    # the same through the API: a refusal naming the field, and the site keeps serving
    app = _client(make_app, "sekretaris")
    for action, field in (("statrequest_list", "offset"),
                          ("statrequest_complaint_list", "offset"),
                          ("statrequest_list", "limit")):
        res = app.get(f"/api/3/action/{action}", query_string={field: HUGE})
        assert res.status_code == 409
        assert field in res.json["error"]
        _site_still_serves(app)


def test_every_request_ends_with_a_rollback_even_after_a_database_error(make_app, office):
    """Whatever fails in the database (here a statement PostgreSQL refuses, in a view the
    test adds), the next request of somebody else is served."""
    app = make_app()

    def broken() -> str:
        model.Session.execute(sa.text(f"SELECT {HUGE}::bigint"))
        return "unreachable"

    app.flask_app.add_url_rule("/_broken", "broken_for_test", broken)
    with pytest.raises(sa.exc.DataError):  # the test app lets the error through
        app.get("/_broken")
    _site_still_serves(app)


# --- finding 2: anonymous API callers -------------------------------------------------------

def _statrequest_actions() -> list[str]:
    logic.get_action("status_show")  # fills the registry with every loaded plugin's actions
    return sorted(name for name in logic._actions if name.startswith("statrequest_"))


def test_no_statrequest_action_answers_500_to_an_anonymous_caller(make_app, office):
    names = _statrequest_actions()
    assert len(names) >= 24, names
    request = submit()
    app = make_app()
    failures = []
    for name in names:
        calls = [
            ("GET", {}),
            ("POST", {}),
            ("POST", {"id": request["id"], "version": 1, "transition": "teruskan_ke_kadis",
                      "limit": 5, "offset": 0, "year": 2026}),
            ("POST", {"id": "\x00", "limit": HUGE, "offset": -1, "year": 10000,
                      "date_to": "9999-12-31", "user": "\x00", "organization": "\x00"}),
        ]
        for method, data in calls:
            if method == "GET":
                res = app.get(f"/api/3/action/{name}", query_string=data)
            else:
                res = app.post(f"/api/3/action/{name}", json=data)
            if res.status_code >= 500:
                failures.append((name, method, data, res.status_code, res.body[:300]))
    assert not failures
    # and the private ones refuse with 403, the public ones answer
    assert app.get("/api/3/action/statrequest_list", status=403).status_code == 403
    assert app.get("/api/3/action/statrequest_stats", status=403).status_code == 403
    assert app.get("/api/3/action/statrequest_stats_public").json["success"] is True
    # nothing was changed by all those calls
    assert act("sekretaris", "statrequest_show", id=request["id"])["state"] == "diajukan"


@pytest.mark.parametrize("who", [None, "", "nobody-like-this", "deleted", "pending"])
def test_anything_but_an_active_user_is_anonymous(office, who):
    from ckan.tests import factories
    from flask_login import AnonymousUserMixin

    from ckanext.statrequest.lib import access

    if who in ("deleted", "pending"):
        user = factories.User(name=f"user-{who}")
        as_sysadmin("organization_member_create", id="diskominfo", username=user["name"],
                    role="admin")
        row = model.User.get(user["id"])
        row.state = who
        model.Session.commit()
        assert access.actor_for(row).anonymous
        who = user["name"]
    assert access.actor_for(who).anonymous
    assert access.actor_for(AnonymousUserMixin()).anonymous
    assert access.actor_for(model.AnonymousUser()).anonymous
    assert not access.actor_for("kadis").anonymous
    assert access.actor_for(model.User.get("kadis")).can_administer


# --- finding 3: malformed values ------------------------------------------------------------

@pytest.mark.parametrize("user,path,statuses", [
    (None, "/permintaan-data/%00", (400,)),
    (None, "/permintaan-data/PDS-2026-" + "9" * 300, (400, 404)),
    ("pemohon1", "/permintaan-data/" + "x" * 65, (400, 404)),
    ("pemohon1", "/permintaan-data/berkas/" + "a" * 300, (400, 404)),
    ("pemohon1", "/permintaan-data/berkas/%00", (400,)),
    (None, "/permintaan-data/verifikasi/%00", (400,)),
    ("pemohon1", "/permintaan-data/pengaduan/%00", (400,)),
    (None, "/permintaan-data/transparansi?date_to=9999-12-31", (400,)),
    (None, "/permintaan-data/transparansi?year=10000", (400,)),
    (None, "/permintaan-data/transparansi?date_from=0001-01-01", (400,)),
    ("sekretaris", "/permintaan-data/statistik?date_to=9999-12-31", (400,)),
    ("sekretaris", "/permintaan-data/statistik/ekspor.csv?date_to=9999-12-31", (400,)),
    ("sekretaris", "/permintaan-data/statistik/ekspor.xlsx?date_from=9999-12-31", (400,)),
    ("pemohon1", f"/permintaan-data/saya?page={HUGE}", (400,)),
    ("pemohon1", "/permintaan-data/saya?page=" + "9" * 5000, (400,)),
    ("sekretaris", f"/permintaan-data/semua?page={HUGE}", (400,)),
    ("pemohon1", f"/permintaan-data/pengaduan/saya?page={HUGE}", (400,)),
    ("kadis", "/permintaan-data/admin/?tahun=10000", (400,)),
    ("kadis", "/permintaan-data/admin/?tahun=" + "9" * 5000, (400,)),
    ("pemohon1", "/permintaan-data/lacak?nomor=%00&email=a@b.test", (400,)),
])
def test_malformed_page_values_answer_4xx(make_app, office, user, path, statuses):
    app = _client(make_app, user)
    res = app.get(path)
    assert res.status_code in statuses, (path, res.status_code)
    _site_still_serves(app)


@pytest.mark.parametrize("user,action,data,field", [
    (None, "statrequest_stats_public", {"date_to": "9999-12-31"}, "date_to"),
    (None, "statrequest_stats_public", {"date_from": "1900-01-01"}, "date_from"),
    ("sekretaris", "statrequest_list", {"created_to": "9999-12-31"}, "created_to"),
    ("sekretaris", "statrequest_list", {"created_from": "99999-01-01"}, "created_from"),
    (None, "statrequest_holiday_list", {"year": "10000"}, "year"),
    ("sekretaris", "statrequest_stats", {"year": "10000"}, "year"),
    ("sekretaris", "statrequest_stats_export", {"date_to": "9999-12-31"}, "date_to"),
    ("sekretaris", "statrequest_show", {"id": "PDS-2026-" + "9" * 300}, "id"),
    ("sekretaris", "statrequest_attachment_show", {"id": "a" * 300}, "id"),
])
def test_malformed_api_values_are_refused_with_the_field(make_app, office, user, action, data,
                                                         field):
    res = _client(make_app, user).post(f"/api/3/action/{action}", json=data)
    assert 400 <= res.status_code < 500, res.body
    assert field in res.json["error"]


def test_bounds_are_shared_by_every_schema():
    """No schema of the extension keeps CKAN's unbounded number or date validators."""
    import importlib
    import inspect
    import pkgutil

    from ckanext.statrequest.logic import schema as schema_pkg

    names = [schema_pkg.__name__] + [f"{schema_pkg.__name__}.{info.name}"
                                     for info in pkgutil.iter_modules(schema_pkg.__path__)]
    assert len(names) > 5, names
    for name in names:
        source = inspect.getsource(importlib.import_module(name))
        assert "natural_number_validator" not in source, name
        assert '"isodate"' not in source, name


# --- finding 6: CSRF independent of CKAN's per-view exemptions ------------------------------

def _token(app, path: str) -> str:
    page = app.get(path).body
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", True)
def test_admin_posts_without_token_are_refused_after_an_anonymous_visit(make_app, office):
    as_sysadmin("statrequest_holiday_create", day="2026-12-24", name="Cuti bersama Natal",
                kind="cuti_bersama")
    position = next(p for p in act("kadis", "statrequest_position_list")
                    if p["user_name"] == "staf2")
    revoke = f"/permintaan-data/admin/jabatan/{position['id']}/cabut"
    delete = "/permintaan-data/admin/libur/2026-12-24/hapus"
    add = "/permintaan-data/admin/libur"
    # an anonymous visit makes CKAN 2.12.0 skip its own check of these views for everybody
    anonymous = make_app()
    for path in (revoke, delete, add):
        anonymous.post(path, status=403)

    admin = _client(make_app, "kadis")
    for path, data in ((revoke, {}), (delete, {}),
                       (add, {"day": "2026-12-31", "name": "Akhir tahun",
                              "kind": "cuti_bersama"})):
        res = admin.post(path, data=data, status=400)
        assert "reload the page" in res.body or "muat ulang" in res.body, path
    assert [h["day"] for h in act("kadis", "statrequest_holiday_list")] == ["2026-12-24"]
    assert next(p for p in act("kadis", "statrequest_position_list", include_inactive=True)
                if p["id"] == position["id"])["revoked"] is False

    # with the token of the admin page the same posts work
    token = _token(admin, "/permintaan-data/admin/")
    admin.post(revoke, data={"_csrf_token": token})
    admin.post(delete, data={"_csrf_token": token})
    assert act("kadis", "statrequest_holiday_list") == []
    assert next(p for p in act("kadis", "statrequest_position_list", include_inactive=True)
                if p["id"] == position["id"])["revoked"] is True


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", True)
def test_every_extension_post_needs_a_token_from_a_session_but_not_from_an_api_token(
        make_app, office):
    request = submit()
    number = request["tracking_number"]
    posts = [f"/permintaan-data/{number}/aksi", "/permintaan-data/pengaduan/baru",
             "/permintaan-data/baru", "/permintaan-data/admin/jabatan",
             f"/permintaan-data/{number}/survei"]
    for path in posts:
        make_app().post(path)  # anonymous: CKAN exempts the view for everybody
    for path in posts:
        user = "kadis" if "admin" in path else "sekretaris" if "aksi" in path else "pemohon1"
        assert _client(make_app, user).post(path, data={"x": "1"}).status_code == 400, path
    assert act("sekretaris", "statrequest_show", id=request["id"])["state"] == "diajukan"
    # an API token is not a browser session: no CSRF token needed
    token = as_sysadmin("api_token_create", user="kadis", name="uji")["token"]
    res = make_app().post("/api/3/action/statrequest_holiday_create",
                          headers={"Authorization": token},
                          json={"day": "2026-12-31", "name": "Akhir tahun", "kind": "cuti_bersama"})
    assert res.status_code == 200, res.body
