"""The objection page (keberatan): the requester files an objection from the request page,
bad input is shown beside the fields with nothing written, the Head of Agency finds it in the
inbox with its deadline and decides it with a signed letter the requester can download."""
from __future__ import annotations

import pytest
from support import PASSPHRASE, act, fire, submit

from ckanext.statrequest.model import Objection

pytestmark = pytest.mark.usefixtures("with_plugins", "test_pki")

REASON = "Data ini statistik agregat, tidak memuat rahasia pribadi."


def _as(app, user):
    if user:
        app.set_session_user(user)
    return app


def _refused_request() -> dict:
    r = submit()
    fire("sekretaris", r["id"], "tolak", reason="pasal17h", note="Memuat nama pasien.")
    fire("kabid", r["id"], "paraf_kabid", passphrase=PASSPHRASE)
    fire("sekretaris", r["id"], "paraf_sekretaris", passphrase=PASSPHRASE)
    fire("kadis", r["id"], "tandatangani", passphrase=PASSPHRASE)
    return r


def _objections() -> int:
    import ckan.model as model

    model.Session.remove()
    return model.Session.query(Objection).count()


def test_the_requester_objects_and_the_head_of_agency_decides_on_the_pages(make_app, office):
    r = _refused_request()
    number = r["tracking_number"]
    read = _as(make_app(), "pemohon1").get(f"/permintaan-data/{number}").body
    assert 'id="objection-box"' in read and f"/permintaan-data/{number}/keberatan" in read
    url = f"/permintaan-data/{number}/keberatan"
    page = _as(make_app(), "pemohon1").get(url).body
    assert 'id="objection-form"' in page and 'value="penolakan_pasal17"' in page
    assert 'value="melebihi_waktu"' not in page  # answered in time: not a ground here
    # others: no page
    _as(make_app(), "pemohon2").get(url, status=403)
    _as(make_app(), None).get(url, status=403)

    # no ground chosen, a ground that does not apply: shown beside the field, nothing written
    for grounds in ([], ["melebihi_waktu"]):
        res = _as(make_app(), "pemohon1").post(url, data={"step": "file", "grounds": grounds,
                                                          "reason": REASON}, status=400)
        assert 'id="grounds-error"' in res.body
    assert _objections() == 0
    res = _as(make_app(), "pemohon1").post(url, data={"step": "file", "grounds": [
        "penolakan_pasal17"], "reason": REASON}, follow_redirects=False)
    assert res.status_code == 302 and _objections() == 1
    page = _as(make_app(), "pemohon1").get(url).body
    assert 'id="objection-due"' in page and REASON in page and 'id="objection-form"' not in page
    assert 'id="decision-form"' not in page  # not the requester's to decide

    inbox = _as(make_app(), "kadis").get("/permintaan-data/kotak-masuk").body
    assert 'id="objections-to-decide"' in inbox and number in inbox
    page = _as(make_app(), "kadis").get(url).body
    assert 'id="decision-form"' in page
    assert "Decide the objection" in _as(make_app(), "kadis").get(
        f"/permintaan-data/{number}").body or "Putuskan keberatan" in page
    # a wrong passphrase: refused beside the field, nothing signed
    res = _as(make_app(), "kadis").post(url, data={
        "step": "decide", "decision": "ditolak", "reason": "Pengecualian tetap berlaku.",
        "passphrase": "keliru-ZZ9"}, status=400)
    assert 'id="passphrase-error"' in res.body and "keliru-ZZ9" not in res.body
    assert act("kadis", "statrequest_objection_show", id=r["id"])["objection"]["decision"] is None
    res = _as(make_app(), "kadis").post(url, data={
        "step": "decide", "decision": "ditolak", "reason": "Pengecualian tetap berlaku.",
        "passphrase": PASSPHRASE}, follow_redirects=False)
    assert res.status_code == 302
    page = _as(make_app(), "pemohon1").get(url).body
    assert 'id="objection-decision"' in page and 'id="objection-letter"' in page
    decided = act("pemohon1", "statrequest_objection_show", id=r["id"])["objection"]
    download = _as(make_app(), "pemohon1").get(
        f"/permintaan-data/berkas/{decided['letter_attachment_id']}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    # counted on the statistics page and the public transparency page
    for user, path in (("kadis", "/permintaan-data/statistik"),
                       (None, "/permintaan-data/transparansi")):
        body = _as(make_app(), user).get(path).body
        assert 'id="stats-objections"' in body and "1 keberatan diajukan" in body


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", True)
def test_an_objection_without_its_csrf_token_is_refused(make_app, office):
    r = _refused_request()
    _as(make_app(), "pemohon1").post(f"/permintaan-data/{r['tracking_number']}/keberatan",
                                     data={"step": "file", "grounds": ["tidak_dipenuhi"],
                                           "reason": REASON}, status=400)
    assert _objections() == 0
