"""The request page: the requester corrects the details while the request waits for their
changes (errors beside the fields, CSRF), and the history shows what changed and an
extended deadline."""
from __future__ import annotations

import pytest
from support import act, fire, submit, walk

from ckanext.statrequest import settings
from ckanext.statrequest.core.workflow import REQUESTER

pytestmark = pytest.mark.usefixtures("with_plugins")

OLD_TITLE = "Jumlah tenaga kesehatan per puskesmas 2025"  # support.request_data()
FORM = 'id="correction"'


def _as(app, user):
    if user:
        app.set_session_user(user)
    return app


def ask_for_changes(rid: str) -> None:
    wf = settings.workflow()
    back = next(t for t in wf.outgoing(wf.initial)
                if wf.states[t.target_of(wf.initial)].holder == REQUESTER)
    fire("sekretaris", rid, back.name, note="Judul perlu diperjelas.")


def fields(number: str) -> dict[str, str]:
    """What the form posts: every field, as the request holds it now."""
    r = act("pemohon1", "statrequest_show", id=number)
    names = ("requester_name", "identity_type", "identity_number", "institution", "category",
             "email", "phone", "address", "title", "description", "period", "breakdown",
             "data_format", "purpose")
    return {name: r.get(name) or "" for name in names} | {"version": str(r["version"])}


def test_the_requester_corrects_on_the_request_page_and_sees_it_in_the_history(make_app, office):
    r = submit()
    url = f"/permintaan-data/{r['tracking_number']}"
    assert FORM not in _as(make_app(), "pemohon1").get(url).body  # not while with the Secretary
    ask_for_changes(r["id"])
    page = _as(make_app(), "pemohon1").get(url).body
    assert FORM in page and f'value="{OLD_TITLE}"' in page and "/perbaiki" in page
    assert FORM not in _as(make_app(), "sekretaris").get(url).body

    posted = fields(r["tracking_number"]) | {"title": "Jumlah bidan per puskesmas 2025"}
    res = _as(make_app(), "pemohon1").post(f"{url}/perbaiki", data=posted,
                                           follow_redirects=False)
    assert res.status_code == 302
    for user in ("pemohon1", "sekretaris"):
        body = _as(make_app(), user).get(url).body
        assert f"Judul: {OLD_TITLE} → Jumlah bidan per puskesmas 2025" in body
    assert act("pemohon1", "statrequest_show", id=r["id"])["title"] == \
        "Jumlah bidan per puskesmas 2025"


def test_a_refused_correction_shows_the_errors_and_changes_nothing(make_app, office):
    r = submit()
    url = f"/permintaan-data/{r['tracking_number']}"
    ask_for_changes(r["id"])
    version = act("pemohon1", "statrequest_show", id=r["id"])["version"]
    posted = fields(r["tracking_number"]) | {"identity_number": "12", "title": "Judul baru"}
    res = _as(make_app(), "pemohon1").post(f"{url}/perbaiki", data=posted, status=400)
    assert 'id="identity_number-error"' in res.body and 'value="Judul baru"' in res.body
    assert "<details" in res.body and 'id="correction" open' in res.body
    after = act("pemohon1", "statrequest_show", id=r["id"])
    assert (after["version"], after["title"]) == (version, OLD_TITLE)
    for user in ("pemohon2", "sekretaris"):  # not theirs to correct
        _as(make_app(), user).post(f"{url}/perbaiki", data=posted | {"identity_number":
                                                                      "6104019876543210"},
                                   status=403)
    assert act("pemohon1", "statrequest_show", id=r["id"])["version"] == version


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", True)
def test_a_correction_without_its_csrf_token_is_refused(make_app, office):
    r = submit()
    ask_for_changes(r["id"])
    version = act("pemohon1", "statrequest_show", id=r["id"])["version"]
    posted = fields(r["tracking_number"]) | {"title": "Judul baru"}
    _as(make_app(), "pemohon1").post(f"/permintaan-data/{r['tracking_number']}/perbaiki",
                                     data=posted, status=400)
    after = act("pemohon1", "statrequest_show", id=r["id"])
    assert (after["version"], after["title"]) == (version, OLD_TITLE)


def test_the_history_shows_an_extended_deadline(make_app, office):
    r = submit()
    walk(office, r["id"], "teruskan_ke_opd")
    wf = settings.workflow()
    t = next(t for t in wf.transitions.values() if t.extend_days)
    page = _as(make_app(), "kasi").get(f"/permintaan-data/{r['tracking_number']}").body
    assert f'data-transition="{t.name}"' in page and "hanya sekali" in page
    fire("kasi", r["id"], t.name, note="Data masih direkap.")
    body = _as(make_app(), "pemohon1").get(f"/permintaan-data/{r['tracking_number']}").body
    assert "Batas waktu diperpanjang 7 hari kerja" in body and "Data masih direkap." in body
