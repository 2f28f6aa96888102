"""The pages behind two API-only features: the requester's consent to publish the delivered
data as open data and the agency's (or the staff's) publication of it, and the Secretary's log
of who opened the requester's identity documents."""
from __future__ import annotations

import ckan.model as model
import pytest
from support import RESULT_NAME, act, finished_request, submit

from ckanext.statrequest.model import Event

pytestmark = pytest.mark.usefixtures("with_plugins", "test_pki")


def _as(app, user):
    if user:
        app.set_session_user(user)
    return app


def _events(rid: str, transition: str) -> int:
    model.Session.remove()
    return model.Session.query(Event).filter_by(request_id=rid, transition=transition).count()


def test_consent_then_publication_by_the_agency_through_the_pages(make_app, office):
    rid = finished_request(office)
    number = act("pemohon1", "statrequest_show", id=rid)["tracking_number"]
    dinkes = office.opd["dinas-kesehatan"]
    url = f"/permintaan-data/{number}/publikasi"

    read = _as(make_app(), "pemohon1").get(f"/permintaan-data/{number}").body
    assert 'id="publication-link"' in read and url in read
    # the agency cannot publish before the requester agrees: no form yet
    page = _as(make_app(), dinkes["admin"]).get(url).body
    assert 'name="step" value="publish"' not in page
    res = _as(make_app(), dinkes["admin"]).post(url, data={
        "step": "publish", "organization": dinkes["id"], "title": "Nakes 2025"}, status=400)
    assert "consent" in res.body or "agreed" in res.body or "setuju" in res.body
    # only the requester may agree; others are refused and nothing is written
    _as(make_app(), "pemohon2").post(url, data={"step": "consent"}, status=403)
    _as(make_app(), None).get(url, status=403)
    assert _events(rid, "setuju_publikasi") == 0

    page = _as(make_app(), "pemohon1").get(url).body
    assert 'id="consent-form"' in page
    res = _as(make_app(), "pemohon1").post(url, data={"step": "consent"}, follow_redirects=False)
    assert res.status_code == 302 and _events(rid, "setuju_publikasi") == 1
    assert 'id="consent-form"' not in _as(make_app(), "pemohon1").get(url).body

    # the agency publishes; a title with script is refused beside the field, nothing written
    page = _as(make_app(), dinkes["admin"]).get(url).body
    assert 'name="step" value="publish"' in page
    res = _as(make_app(), dinkes["admin"]).post(url, data={
        "step": "publish", "organization": dinkes["id"], "title": "Nakes <script>x</script> 2025",
        "license_id": "cc-by"}, status=400)
    assert 'id="form-errors"' in res.body and "<script>x</script>" not in res.body
    assert _events(rid, "terbitkan_terbuka") == 0
    res = _as(make_app(), dinkes["admin"]).post(url, data={
        "step": "publish", "organization": dinkes["id"], "title": "Nakes 2025",
        "license_id": "cc-by"}, follow_redirects=False)
    assert res.status_code == 302 and _events(rid, "terbitkan_terbuka") == 1
    page = _as(make_app(), "pemohon1").get(url).body
    assert "Diterbitkan sebagai" in page and "Nakes 2025" in page
    shown = act(dinkes["admin"], "statrequest_publication_show", id=rid)["organizations"]
    published = act(None, "package_show", id=shown[0]["package"]["id"])  # public, to anyone
    assert not published["private"] and published["organization"]["name"] == "dinas-kesehatan"
    assert [r["name"] for r in published["resources"]] == [RESULT_NAME]
    assert published["license_id"] == "cc-by" and published["title"] == "Nakes 2025"


def test_staff_may_publish_for_an_agency_without_accounts_but_others_may_not(make_app, office):
    rid = finished_request(office)
    number = act("pemohon1", "statrequest_show", id=rid)["tracking_number"]
    dinkes = office.opd["dinas-kesehatan"]
    url = f"/permintaan-data/{number}/publikasi"
    _as(make_app(), "pemohon1").post(url, data={"step": "consent"}, follow_redirects=False)
    data = {"step": "publish", "organization": dinkes["id"], "title": "Nakes 2025"}
    for user in ("pemohon1", "admin-pendidikan", "kadis"):
        _as(make_app(), user).post(url, data=data, status=403)
    assert _events(rid, "terbitkan_terbuka") == 0
    res = _as(make_app(), "staf1").post(url, data=data, follow_redirects=False)
    assert res.status_code == 302 and _events(rid, "terbitkan_terbuka") == 1


def test_a_request_without_delivered_data_offers_no_publication(make_app, office):
    r = submit()
    read = _as(make_app(), "pemohon1").get(f"/permintaan-data/{r['tracking_number']}").body
    assert 'id="publication-link"' not in read
    page = _as(make_app(), "pemohon1").get(f"/permintaan-data/{r['tracking_number']}/publikasi").body
    assert 'id="publication-none"' in page and 'id="consent-form"' not in page
    _as(make_app(), "pemohon1").post(f"/permintaan-data/{r['tracking_number']}/publikasi",
                                     data={"step": "consent"}, status=403)


def test_the_secretary_reads_who_opened_the_identity_document(make_app, office):
    r = submit()
    number = r["tracking_number"]
    url = f"/permintaan-data/{number}/akses-identitas"
    assert 'id="identity-access-empty"' in _as(make_app(), "sekretaris").get(url).body
    read = _as(make_app(), "sekretaris").get(f"/permintaan-data/{number}").body
    assert 'id="identity-log-link"' in read
    ident = [a for a in act("sekretaris", "statrequest_show", id=r["id"])["attachments"]
             if a["kind"] == "identity_document"][0]
    _as(make_app(), "sekretaris").get(f"/permintaan-data/berkas/{ident['id']}")
    page = _as(make_app(), "sekretaris").get(url).body
    assert 'id="identity-access"' in page and "Sekretaris" in page
    # nobody else reads the log, and the link is not shown to them
    for user in ("pemohon1", "kadis", "staf1", None):
        _as(make_app(), user).get(url, status=403)
    assert 'id="identity-log-link"' not in _as(make_app(), "pemohon1").get(
        f"/permintaan-data/{number}").body
