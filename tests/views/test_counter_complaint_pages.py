"""The front desk's counter form for complaints and the officials' complaint list with due
dates, overdue and escalated marks and the channel filter."""
from __future__ import annotations

import datetime as dt

import ckan.model as model
import pytest
from sqlalchemy import func, select
from support import FRONT_DESK, act, make_front_desk

from ckanext.statrequest.model.feedback import Complaint

pytestmark = pytest.mark.usefixtures("with_plugins")

FORM = "/permintaan-data/pengaduan/loket"


def _as(app, user):
    if user:
        app.set_session_user(user)
    return app


def complaints() -> int:
    model.Session.remove()
    return model.Session.scalar(select(func.count()).select_from(Complaint))


def fields(**overrides) -> dict[str, str]:
    return {"channel": "telepon", "received_at": dt.date.today().isoformat(),
            "complainant_name": "Siti Aminah", "complainant_phone": "081234567890",
            "subject": "Jawaban belum diterima", "body": "Menelepon menanyakan jawaban."
            } | overrides


def test_the_front_desk_records_a_complaint_on_its_form(make_app, office):
    make_front_desk()
    app = _as(make_app(), FRONT_DESK)
    page = app.get(FORM).body
    assert 'name="complainant_phone"' in page and 'name="channel"' in page
    res = app.post(FORM, data=fields(), follow_redirects=False)
    assert res.status_code == 302
    number = res.location.rsplit("/", 1)[1]
    shown = _as(make_app(), "sekretaris").get(f"/permintaan-data/pengaduan/{number}").body
    assert 'id="complaint-due"' in shown and "Siti Aminah" in shown and "081234567890" in shown
    assert 'id="complaint-overdue"' not in shown

    # no contact: the form comes back with the error, nothing is recorded
    before = complaints()
    again = app.post(FORM, data=fields(complainant_phone="")).body
    assert 'id="form-errors"' in again and complaints() == before


def test_the_list_shows_due_dates_overdue_marks_and_filters_by_channel(make_app, office):
    make_front_desk()
    act(FRONT_DESK, "statrequest_complaint_record", **fields(
        channel="surat", received_at="2026-02-02", subject="Surat keluhan"))
    act("pemohon1", "statrequest_complaint_create", subject="Keluhan daring", body="Lambat.")
    page = _as(make_app(), "kasi").get("/permintaan-data/pengaduan").body
    assert "Surat keluhan" in page and "Keluhan daring" in page
    assert page.count("complaint-overdue") == 1  # the letter of February is past due
    assert 'id="record-complaint"' not in page  # the link is for the front desk
    letters = _as(make_app(), "kasi").get("/permintaan-data/pengaduan?channel=surat").body
    assert "Surat keluhan" in letters and "Keluhan daring" not in letters
    desk = _as(make_app(), FRONT_DESK).get("/permintaan-data/pengaduan").body
    assert 'id="record-complaint"' in desk
    # the statistics page counts them per channel
    stats = _as(make_app(), "kasi").get("/permintaan-data/statistik?date_from=2026-01-01").body
    table = stats.split('id="stats-complaints-by-channel"')[1].split("</table>")[0]
    assert "Surat" in table and "Portal (daring)" in table


def test_others_may_not_open_the_counter_form(make_app, office):
    make_front_desk()
    for user in ("pemohon1", "staf1"):
        _as(make_app(), user).get(FORM, status=403)
        _as(make_app(), user).post(FORM, data=fields(), status=403)
    assert complaints() == 0


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", True)
def test_the_counter_form_needs_its_csrf_token(make_app, office):
    make_front_desk()
    _as(make_app(), FRONT_DESK).post(FORM, data=fields(), status=400)
    assert complaints() == 0
