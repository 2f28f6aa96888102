"""The request form checks everything at once and keeps the good uploads (GOV.UK error summary):
every field and every file on each submission, one summary at the top linking each problem to
its field, each message beside its field, a rejected file named in plain words, and a file that
passed its checks kept for this session only, so it need not be chosen again."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re

import ckan.model as model
import pytest
from sqlalchemy import func, select
from support import act, make_front_desk, pdf_bytes, png_bytes

from ckanext.statrequest import settings
from ckanext.statrequest.lib import attachments, kept
from ckanext.statrequest.model import Attachment, Event, Request

pytestmark = pytest.mark.usefixtures("with_plugins")

EXE = b"MZ\x90\x00\x03" + b"\x00" * 200
KTP, FORMULIR = png_bytes(), pdf_bytes("Formulir")


def _as(app, user):
    if user:
        app.set_session_user(user)
    return app


def _footprint() -> tuple[int, ...]:
    count = lambda table: model.Session.scalar(select(func.count()).select_from(table))  # noqa: E731
    return count(Request), count(Event), count(Attachment), count(model.File)


def _fields(**overrides):
    data = {
        "requester_name": "Dewi Lestari", "identity_type": "nik",
        "identity_number": "6104012345678901", "category": "masyarakat_umum",
        "email": "dewi@example.test", "title": "Jumlah puskesmas per kecamatan 2025",
        "description": "Data puskesmas per kecamatan.", "purpose": "Penelitian",
        "consent_personal_data": "y",
    }
    data.update(overrides)
    return data


def _three_errors():
    """Bad NIK, missing title, a program as the letter; identity and data form are good."""
    return _fields(identity_number="123", title="",
                   identity_document=(io.BytesIO(KTP), "ktp.png"),
                   request_letter=(io.BytesIO(EXE), "surat.exe"),
                   data_form=(io.BytesIO(FORMULIR), "formulir.pdf"))


def _summary(body: str) -> str:
    match = re.search(r'<div class="alert alert-danger"[^>]*id="form-errors".*?</div>', body, re.S)
    assert match, "no error summary"
    return match.group(0)


def _beside(body: str, name: str) -> str:
    match = re.search(rf'id="{name}-error">(.*?)</div>', body, re.S)
    assert match, f"no message beside {name}"
    return match.group(1)


def _token(user: str) -> str:
    """The token of the user's kept form (read from the kept area: the session cookie of the
    test client is set for the site's domain)."""
    owner = model.User.get(user).id
    area = settings.storage_path() / kept.AREA
    (token,) = [d.name for d in area.iterdir() if (d / "owner").read_text() == owner]
    return token


def test_every_problem_at_once_and_the_good_files_are_kept(make_app, office):
    app = _as(make_app(), "pemohon1")
    before = _footprint()
    res = app.post("/permintaan-data/baru", data=_three_errors())
    assert res.status_code == 200
    summary = _summary(res.body)
    assert 'tabindex="-1"' in summary and "Ada masalah" in summary
    for name in ("identity_number", "title", "request_letter"):
        assert f'href="#{name}"' in summary, name
    assert summary.count("<li") == 3
    assert "16" in _beside(res.body, "identity_number")
    assert _beside(res.body, "title")
    letter = _beside(res.body, "request_letter")
    assert "surat.exe: jenis berkas tidak diterima; gunakan PDF, JPEG atau PNG" in letter
    assert "application/" not in summary and "application/" not in letter  # no MIME types
    # the good files are kept, named, and no longer required
    assert "Tersimpan: ktp.png" in res.body and "Tersimpan: formulir.pdf" in res.body
    assert 'id="identity_document-kept"' in res.body and 'id="data_form-kept"' in res.body
    assert 'id="request_letter-kept"' not in res.body
    assert _footprint() == before  # nothing written
    token = _token("pemohon1")

    # only the fixed fields and a new letter: the kept files go with the request
    res = app.post("/permintaan-data/baru", data=_fields(
        request_letter=(io.BytesIO(pdf_bytes()), "surat.pdf")), follow_redirects=False)
    assert res.status_code == 302, res.body
    (row,) = act("pemohon1", "statrequest_list")["results"]
    files = {a["kind"]: a for a in act("pemohon1", "statrequest_show", id=row["id"])["attachments"]}
    assert files["identity_document"]["sha256"] == hashlib.sha256(KTP).hexdigest()
    assert files["data_form"]["sha256"] == hashlib.sha256(FORMULIR).hexdigest()
    assert files["identity_document"]["name"] == "ktp.png"
    assert files["request_letter"]["sha256"] == hashlib.sha256(pdf_bytes()).hexdigest()
    assert not (settings.storage_path() / kept.AREA / token).exists()  # used up


def test_a_kept_file_serves_only_its_own_session(make_app, office):
    a = _as(make_app(), "pemohon1")
    a.post("/permintaan-data/baru", data=_three_errors())
    token = _token("pemohon1")
    before = _footprint()
    # another user naming the token in the form, the address and a cookie gets nothing
    b = _as(make_app(), "pemohon2")
    b.client.set_cookie("statrequest_kept", token)
    res = b.post(f"/permintaan-data/baru?statrequest_kept={token}", data=_fields(
        statrequest_kept=token, kept=token,
        request_letter=(io.BytesIO(pdf_bytes()), "surat.pdf")))
    assert res.status_code == 200 and "ktp.png" not in res.body
    assert "formulir.pdf" not in res.body and "Tersimpan: surat.pdf" in res.body  # B's own
    assert 'id="identity_document-error"' in res.body
    assert _footprint() == before
    # a token that reached another user's session is refused by its owner check: see
    # test_kept_area_refuses_foreign_owners_bad_tokens_and_expires
    # the owner's files are untouched and still theirs
    res = a.post("/permintaan-data/baru", data=_fields(
        request_letter=(io.BytesIO(pdf_bytes()), "surat.pdf")), follow_redirects=False)
    assert res.status_code == 302


def test_accepted_types_and_size_are_told_before_any_error(make_app, office):
    body = _as(make_app(), "pemohon1").get("/permintaan-data/baru").body
    mb = settings.max_file_size() // (1024 * 1024)
    assert 'id="form-errors"' not in body
    assert body.count(f"paling besar {mb} MB") == 3
    assert "PDF, JPEG atau PNG" in body
    english = _as(make_app(), "pemohon1").get("/en/permintaan-data/baru").body
    assert f"at most {mb} MB" in english and "PDF, JPEG or PNG" in english


def test_opening_the_form_afresh_forgets_the_kept_files(make_app, office):
    app = _as(make_app(), "pemohon1")
    app.post("/permintaan-data/baru", data=_three_errors())
    token = _token("pemohon1")
    assert kept.listing(token, model.User.get("pemohon1").id)
    assert "Tersimpan" not in app.get("/permintaan-data/baru").body
    assert not (settings.storage_path() / kept.AREA / token).exists()


def test_a_replaced_file_that_fails_is_no_longer_kept(make_app, office):
    app = _as(make_app(), "pemohon1")
    app.post("/permintaan-data/baru", data=_three_errors())
    res = app.post("/permintaan-data/baru", data=_fields(
        identity_number="1", identity_document=(io.BytesIO(b""), "kosong.png")))
    assert "kosong.png: berkasnya kosong" in _beside(res.body, "identity_document")
    assert 'id="identity_document-kept"' not in res.body and 'id="data_form-kept"' in res.body


def test_front_desk_form_sums_up_and_keeps_files_too(make_app, office):
    make_front_desk()
    app = _as(make_app(), "loket")
    today = dt.date.today().isoformat()
    desk = _fields(channel="langsung", received_on=today, phone="0812 555 0102",
                   consent_personal_data=None)
    desk.pop("consent_personal_data")
    res = app.post("/permintaan-data/loket", data=desk | {
        "identity_number": "12", "identity_document": (io.BytesIO(KTP), "ktp.png"),
        "request_letter": (io.BytesIO(EXE), "surat.exe")}, status=400)
    summary = _summary(res.body)
    assert 'href="#identity_number"' in summary and 'href="#request_letter"' in summary
    assert "Tersimpan: ktp.png" in res.body
    res = app.post("/permintaan-data/loket", data=desk | {
        "request_letter": (io.BytesIO(pdf_bytes()), "surat.pdf")}, follow_redirects=False)
    assert res.status_code == 302, res.body
    (row,) = act("loket", "statrequest_register_list")["results"]
    files = {a["kind"]: a for a in act("loket", "statrequest_show", id=row["id"])["attachments"]}
    assert files["identity_document"]["sha256"] == hashlib.sha256(KTP).hexdigest()


# --- the kept area itself ---------------------------------------------------------------------

def test_kept_area_refuses_foreign_owners_bad_tokens_and_expires(office):
    prepared = attachments.prepare("identity_document", ("ktp.png", KTP))
    token = kept.new_token()
    assert kept.keep(token, "user-a", prepared)
    assert kept.load(token, "user-a", "identity_document") == ("ktp.png", KTP)
    assert kept.load(token, "user-b", "identity_document") is None
    assert kept.load(token, "", "identity_document") is None
    assert kept.mine(token, "user-a") and not kept.mine(token, "user-b")
    assert kept.keep(token, "user-b", prepared) is False  # never overwritten by another
    kept.clear(token, "user-b")
    assert kept.listing(token, "user-a") == {"identity_document": {"name": "ktp.png",
                                                                    "size": len(KTP)}}
    for bad in ("../" + token, "..", "", None, token + "/x", token[:-1]):
        assert kept.load(bad, "user-a", "identity_document") is None
        assert kept.keep(bad, "user-a", prepared) is False
    folder = settings.storage_path() / kept.AREA / token
    (folder / "identity_document.bin").write_bytes(KTP + b"x")  # altered on disk: refused
    assert kept.load(token, "user-a", "identity_document") is None
    kept.keep(token, "user-a", prepared)
    import time
    assert kept.purge(time.time() + kept.TTL + 1) >= 1
    assert not folder.exists() and kept.listing(token, "user-a") == {}
