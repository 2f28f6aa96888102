"""The request page for people who use it without help (issue #15): the progress tracker (where
the request is, what comes next, by when), the Secretary's completeness checklist, and a
withdrawal that asks first even without JavaScript."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import ckan.model as model
import pytest
from babel.dates import format_datetime
from support import act, finished_request, submit, walk

from ckanext.statrequest import settings
from ckanext.statrequest.model import Attachment

pytestmark = pytest.mark.usefixtures("with_plugins")


def _page(app, user: str, ref: str) -> str:
    app.set_session_user(user)
    return app.get(f"/permintaan-data/{ref}").body


def _tracker(page: str) -> str:
    return page.split('<ol id="progress"', 1)[1].split("</ol>", 1)[0]


def _current(page: str) -> str:
    """The label of the step marked aria-current, as the page says it."""
    item = _tracker(page).split('aria-current="step"', 1)[1].split("</li>", 1)[0]
    return re.search(r'statrequest-step-label">([^<]*)<', item).group(1)


def _due_text(request_id: str) -> str:
    """The expected date as the page writes it (Indonesian, the office's time zone)."""
    due = act("sekretaris", "statrequest_show", id=request_id)["sla_due_at"]
    local = dt.datetime.fromisoformat(due).astimezone(ZoneInfo(settings.get("timezone")))
    return format_datetime(local, "d MMM y HH.mm", locale="id")


def test_the_tracker_marks_where_the_request_is_in_three_states(make_app, office):
    new = submit()
    working = submit(title="Jumlah sekolah per kecamatan 2025")
    walk(office, working["id"], "tugaskan_staf")  # on a staff member's desk
    done = act("pemohon1", "statrequest_show", id=finished_request(office))
    cases = [(new, "Pemeriksaan kelengkapan", "Data diproses"),
             (act("pemohon1", "statrequest_show", id=working["id"]), "Data diproses",
              "Penandatanganan surat balasan"),
             (done, "Selesai", None)]
    for req, current, following in cases:
        page = _page(make_app(), "pemohon1", req["tracking_number"])
        assert page.count('aria-current="step"') == 1, req["state"]
        assert _current(page) == current, req["state"]
        if following:
            assert f"Berikutnya: {following}" in page
            assert _due_text(req["id"]) in page.split('id="progress-due"', 1)[1][:300]
        else:  # finished: every step done, nothing next, no date to wait for
            assert 'id="progress-next"' not in page and 'id="progress-due"' not in page
            assert _tracker(page).count("✓") == len(settings.workflow().progress_steps())
    # earlier steps are done, later ones to come
    tracker = _tracker(_page(make_app(), "pemohon1", working["tracking_number"]))
    assert tracker.count("statrequest-step-done") == 2
    assert tracker.count("statrequest-step-todo") == 2
    # officials see the same tracker; in English in English
    assert _current(_page(make_app(), "kasi", working["tracking_number"])) == "Data diproses"
    app = make_app()
    app.set_session_user("pemohon1")
    english = app.get(f"/en/permintaan-data/{new['tracking_number']}").body
    assert _current(english) == "Completeness check"


def test_a_request_waiting_for_changes_stays_at_the_check_and_a_withdrawn_one_has_none(
        make_app, office):
    asked = submit()
    act("sekretaris", "statrequest_transition", id=asked["id"], transition="minta_perbaikan",
        version=1, note="Surat permohonan belum ditandatangani.")
    page = _page(make_app(), "pemohon1", asked["tracking_number"])
    assert _current(page) == "Pemeriksaan kelengkapan"
    withdrawn = submit()
    act("pemohon1", "statrequest_transition", id=withdrawn["id"], transition="batalkan", version=1)
    assert 'id="progress"' not in _page(make_app(), "pemohon1", withdrawn["tracking_number"])


def _checklist(page: str) -> dict[str, str]:
    box = page.split('id="checklist"', 1)[1].split("</section>", 1)[0]
    return {kind: item for kind, item in re.findall(r'data-kind="(\w+)"(.*?)</li>', box, re.S)}


def test_the_secretary_sees_which_documents_are_there(make_app, office):
    r = submit()
    items = _checklist(_page(make_app(), "sekretaris", r["tracking_number"]))
    assert set(items) == {"identity_document", "request_letter", "data_form"}
    for kind, item in items.items():
        assert "✓" in item and "✗" not in item, kind
        assert "lihat=1" in item and "Pratinjau" in item, kind  # PNG and PDFs open inline
    page = _page(make_app(), "sekretaris", r["tracking_number"])
    assert "Persetujuan pemrosesan data pribadi" in page.split('id="consent"', 1)[1][:400]
    # the identity scan removed: missing, and the Secretary is told
    model.Session.query(Attachment).filter_by(
        request_id=r["id"], kind="identity_document").update({"deleted_at": dt.datetime.now(dt.UTC)})
    model.Session.commit()
    page = _page(make_app(), "sekretaris", r["tracking_number"])
    items = _checklist(page)
    assert "✗" in items["identity_document"] and "lihat=1" not in items["identity_document"]
    assert "✓" in items["request_letter"]
    assert 'id="checklist-incomplete"' in page
    # only for who checks it now: not the requester, not another official, not later
    for user in ("pemohon1", "kadis"):
        assert 'id="checklist"' not in _page(make_app(), user, r["tracking_number"]), user
    act("sekretaris", "statrequest_transition", id=r["id"], transition="teruskan_ke_kadis",
        version=1)
    assert 'id="checklist"' not in _page(make_app(), "sekretaris", r["tracking_number"])


def test_without_javascript_the_withdrawal_asks_first(make_app, office):
    r = submit()
    app = make_app()
    app.set_session_user("pemohon1")
    url = f"/permintaan-data/{r['tracking_number']}"
    form = app.get(url).body.split('data-transition="batalkan"', 1)[1].split("</form>", 1)[0]
    assert 'name="confirmed" value=""' in form  # set by the page's script, with the dialog
    page = app.post(f"{url}/aksi", data={"transition": "batalkan", "version": "1"})
    assert page.status_code == 200
    body = page.body
    assert 'id="confirm-step"' in body and "Langkah ini tidak dapat diurungkan" in body
    confirm = body.split('id="confirm-step"', 1)[1].split("</form>", 1)[0]
    assert 'name="confirmed" value="1"' in confirm and 'name="transition" value="batalkan"' in confirm
    assert f'action="{url}/aksi"' in body
    shown = act("pemohon1", "statrequest_show", id=r["id"])
    assert (shown["state"], shown["version"]) == ("diajukan", 1)  # nothing changed
    done = app.post(f"{url}/aksi", data={"transition": "batalkan", "version": "1",
                                         "confirmed": "1"}, follow_redirects=False)
    assert done.status_code == 302
    assert act("pemohon1", "statrequest_show", id=r["id"])["state"] == "dibatalkan"


def test_the_confirmation_page_is_no_way_around_the_rules(make_app, office):
    """Someone who may not withdraw the request gets no confirmation page, but the refusal."""
    r = submit()
    url = f"/permintaan-data/{r['tracking_number']}/aksi"
    app = make_app()
    app.set_session_user("sekretaris")  # sees the request, may not withdraw it
    body = app.post(url, data={"transition": "batalkan", "version": "1"}).body
    assert 'id="confirm-step"' not in body
    app = make_app()
    app.set_session_user("pemohon2")
    res = app.post(url, data={"transition": "batalkan", "version": "1"}, status=403)
    assert 'id="confirm-step"' not in res.body
    assert act("pemohon1", "statrequest_show", id=r["id"])["state"] == "diajukan"
    # steps that move the request on are not asked
    app = make_app()
    app.set_session_user("sekretaris")
    app.post(url, data={"transition": "teruskan_ke_kadis", "version": "1"},
             follow_redirects=False)
    assert act("pemohon1", "statrequest_show", id=r["id"])["state"] == "disposisi_kadis"
