"""The front desk's pages: the registration form, the printable receipt with its QR code, the
incoming-letter register (filters, print view, CSV) and who may open them."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from support import act, desk_data, make_front_desk, pdf_bytes, png_bytes, submit

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.fixture
def desk(office):
    make_front_desk()
    return office


def _as(app, user):
    if user:
        app.set_session_user(user)
    return app


def _form(**overrides):
    data = {
        "channel": "surat", "received_on": dt.date.today().isoformat(),
        "sender_letter_number": "12/RT05/2026", "sender_letter_date": dt.date.today().isoformat(),
        "requester_name": "Pak Rahmat", "identity_type": "nik",
        "identity_number": "6104012345678902", "category": "masyarakat_umum",
        "phone": "0812 555 0102", "title": "Jumlah posyandu per desa",
        "description": "Data posyandu aktif per desa 2025.", "purpose": "Laporan RT",
        "identity_document": (io.BytesIO(png_bytes()), "ktp.png"),
        "request_letter": (io.BytesIO(pdf_bytes()), "surat.pdf"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_desk_registers_a_letter_and_prints_the_receipt_with_qr(make_app, desk):
    app = _as(make_app(), "loket")
    form = app.get("/permintaan-data/loket")
    assert form.status_code == 200 and 'name="received_on"' in form.body
    res = app.post("/permintaan-data/loket", data=_form(), follow_redirects=False)
    assert res.status_code == 302 and "/permintaan-data/loket/tanda-terima/PDS-" in res.location
    (row,) = act("loket", "statrequest_register_list")["results"]
    receipt = app.get(f"/permintaan-data/loket/tanda-terima/{row['tracking_number']}").body
    assert row["tracking_number"] in receipt and row["agenda_number"] in receipt
    assert 'id="track-qr"' in receipt and "<svg" in receipt and 'id="due"' in receipt
    page = app.get(f"/permintaan-data/{row['tracking_number']}").body
    assert row["agenda_number"] in page and "12/RT05/2026" in page
    # no email given: the receipt carries the link that opens the request page
    assert 'id="guest-qr"' in receipt and "/permintaan-data/tamu/" in receipt


def test_desk_form_refuses_a_future_date_and_shows_why(make_app, desk):
    app = _as(make_app(), "loket")
    later = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    res = app.post("/permintaan-data/loket", data=_form(received_on=later, phone=""), status=400)
    assert 'id="received_on-error"' in res.body and 'id="email-error"' in res.body
    assert 'value="Pak Rahmat"' in res.body
    assert act("loket", "statrequest_register_list")["count"] == 0


@pytest.mark.parametrize("user", ["sekretaris", "pemohon1", "admin-kesehatan", None])
def test_only_the_desk_opens_the_form(make_app, desk, user):
    _as(make_app(), user).get("/permintaan-data/loket", status=403)
    _as(make_app(), user).post("/permintaan-data/loket", data=_form(), status=403)
    assert act("loket", "statrequest_register_list")["count"] == 0


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", True)
def test_desk_form_without_csrf_token_is_refused(make_app, desk):
    _as(make_app(), "loket").post("/permintaan-data/loket", data=_form(), status=400)
    assert act("loket", "statrequest_register_list")["count"] == 0


def test_register_page_lists_portal_and_desk_requests(make_app, desk):
    portal = submit()
    letter = act("loket", "statrequest_register", **desk_data())
    app = _as(make_app(), "kasi")
    body = app.get("/permintaan-data/buku-agenda").body
    assert portal["agenda_number"] in body and letter["agenda_number"] in body
    assert portal["tracking_number"] in body and "005/UNTAN/XII/2026" in body
    only_letters = app.get("/permintaan-data/buku-agenda?channel=surat").body
    assert letter["agenda_number"] in only_letters and portal["agenda_number"] not in only_letters
    printed = app.get("/permintaan-data/buku-agenda?cetak=1").body
    assert "window.print()" in printed and letter["agenda_number"] in printed
    csv = app.get("/permintaan-data/buku-agenda/ekspor.csv?channel=portal")
    assert csv.headers["Content-Type"].startswith("text/csv")
    text = csv.body if isinstance(csv.body, str) else csv.body.decode("utf-8")
    assert portal["agenda_number"] in text and letter["agenda_number"] not in text
    app.get("/permintaan-data/buku-agenda?received_from=kemarin", status=400)
    app.get("/permintaan-data/buku-agenda/ekspor.csv?channel=merpati", status=400)


@pytest.mark.parametrize("user", ["pemohon1", "admin-kesehatan", None])
def test_register_pages_are_closed_to_requesters_opd_and_visitors(make_app, desk, user):
    r = submit()
    for path in ("/permintaan-data/buku-agenda", "/permintaan-data/buku-agenda?cetak=1",
                 "/permintaan-data/buku-agenda/ekspor.csv",
                 f"/permintaan-data/loket/tanda-terima/{r['tracking_number']}"):
        _as(make_app(), user).get(path, status=403)


def test_navigation_shows_the_desk_and_the_register(make_app, desk):
    body = _as(make_app(), "loket").get("/permintaan-data/buku-agenda").body
    assert "/permintaan-data/loket" in body
    staff = _as(make_app(), "kasi").get("/permintaan-data/semua").body
    assert "/permintaan-data/buku-agenda" in staff and 'href="/permintaan-data/loket"' not in staff
