"""Pages ask auth functions for rights and never decide them themselves; they read the
configuration through `settings` and show the code lists of `core.vocabulary`."""
from __future__ import annotations

import ast
import pathlib

import ckantoolkit as tk
import pytest
from support import submit

import ckanext.statrequest.views as views
from ckanext.statrequest import helpers
from ckanext.statrequest.core import vocabulary

pytestmark = pytest.mark.usefixtures("with_plugins")

VIEWS = pathlib.Path(views.__file__).parent


def _imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


@pytest.mark.parametrize("path", sorted(VIEWS.glob("*.py")), ids=lambda p: p.name)
def test_a_page_module_decides_no_rights_itself(path):
    text = path.read_text()
    imported = _imports(ast.parse(text))
    # rights come from auth functions (tk.check_access) and actions (tk.get_action) only
    assert "ckanext.statrequest.lib.access" not in imported, path.name
    assert not any(m.startswith("ckanext.statrequest.logic.action") for m in imported), path.name
    for word in (".is_staff", ".can_administer", ".opd_ids", "sysadmin", "actor_for",
                 "tk.config", "current_app.config.get(\"ckanext"):
        assert word not in text, f"{path.name} uses {word}"


def _may(user: str, auth: str, **data: object) -> bool:
    try:
        tk.check_access(auth, {"user": user}, data)
    except tk.NotAuthorized:
        return False
    return True


def test_page_auth_functions(office):
    for auth in ("statrequest_request_list_all", "statrequest_disposition_sheet",
                 "statrequest_complaint_list_all"):
        assert _may("kasi", auth) and _may("sekretaris", auth) and _may(office.sysadmin, auth)
        for outsider in ("pemohon1", "admin-kesehatan", "kadis-bukan-pengguna", ""):
            assert not _may(outsider, auth), (auth, outsider)
    dinkes = office.opd["dinas-kesehatan"]["id"]
    for ref in ("dinas-kesehatan", dinkes):
        assert _may("admin-kesehatan", "statrequest_opd_requests", organization=ref)
        assert _may(office.sysadmin, "statrequest_opd_requests", organization=ref)
        for outsider in ("admin-pendidikan", "pemohon1", "kasi", ""):
            assert not _may(outsider, "statrequest_opd_requests", organization=ref), outsider
    for ref in ("", "tidak-ada", "x" * 5000, "diskominfo"):
        assert not _may("admin-kesehatan", "statrequest_opd_requests", organization=ref)


def test_refusals_keep_their_codes_and_messages(make_app, office):
    app = make_app()
    app.set_session_user("pemohon1")
    body = app.get("/en/permintaan-data/semua", status=403).body
    assert "Only Diskominfo officials may see all requests." in body
    r = submit()
    body = app.get(f"/en/permintaan-data/{r['tracking_number']}/lembar-disposisi",
                   status=403).body
    assert "Only Diskominfo officials may print the disposition sheet." in body
    body = app.get("/en/permintaan-data/opd/dinas-kesehatan", status=403).body
    assert "Only admins and editors of this organisation may see its requests." in body
    assert app.get("/permintaan-data/pengaduan", status=302, follow_redirects=False
                   ).location.endswith("/permintaan-data/pengaduan/saya")
    anonymous = make_app()
    for path in ("/en/permintaan-data/semua", "/en/permintaan-data/admin/",
                 "/en/permintaan-data/pengaduan", "/en/permintaan-data/opd/dinas-kesehatan"):
        assert "Please log in first." in anonymous.get(path, status=403).body, path
    assert anonymous.post("/permintaan-data/admin/libur", data={"day": "2026-12-31"},
                          status=403)


def test_code_lists_are_the_vocabulary_in_the_readers_language(make_app, office):
    r = submit(category="dunia_usaha")
    app = make_app()
    app.set_session_user("kasi")
    english = app.get("/en/permintaan-data/semua").body
    for label in vocabulary.REQUESTER_CATEGORIES.values():
        assert f">{label}</option>" in english
    assert ">Masyarakat umum</option>" in app.get("/permintaan-data/semua").body
    read = app.get(f"/en/permintaan-data/{r['tracking_number']}").body
    assert "Business" in read
    admin = make_app()
    admin.set_session_user("kadis")
    page = admin.get("/permintaan-data/admin/").body
    assert "Cuti bersama" in page and "Token PKCS#11" in page


def test_template_helpers(make_app, office):
    assert "statrequest_sla_days" in helpers.__all__  # the home page states the promise
    with make_app().flask_app.test_request_context("/"):  # the portal's language: Indonesian
        assert helpers.statrequest_labels("outcomes") == {
            "dipenuhi": "Dipenuhi", "dipenuhi_sebagian": "Dipenuhi sebagian", "ditolak": "Ditolak"}
        assert list(helpers.statrequest_labels("holiday_kinds")) == list(vocabulary.HOLIDAY_KINDS)


@pytest.mark.ckan_config("ckanext.statrequest.verify.max_upload_mb", "3")
def test_verify_page_states_the_configured_upload_limit(make_app):
    body = make_app().get("/en/permintaan-data/verifikasi/").body
    assert "A PDF of at most 3 MB." in body
