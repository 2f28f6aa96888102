"""Personal data at rest and crafted files: the NIK is stored encrypted and every full view of it
by an official is recorded; office documents are checked by their inner structure; guest links
expire."""
from __future__ import annotations

import base64
import datetime as dt
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import ckan.model as model
import ckantoolkit as tk
import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, text
from support import act, as_sysadmin, fire, pdf_bytes, request_data, submit, upload

from ckanext.statrequest.lib import attachments, guest
from ckanext.statrequest.model import IdentityAccess, Request, crypto

pytestmark = pytest.mark.usefixtures("with_plugins")

NIK = "6104012345678901"
OTHER_NIK = "6171029876543210"
ROOT = Path(__file__).resolve().parents[2]


def _raw(rid: str) -> dict:
    row = model.Session.execute(text(
        "SELECT identity_number, identity_number_hash, r::text AS whole "
        "FROM statrequest_request r WHERE id = :id"), {"id": rid}).mappings().one()
    return dict(row)


def _nik_views(rid: str | None = None) -> list[tuple[str, str]]:
    query = select(IdentityAccess.kind, model.User.name).join(
        model.User, model.User.id == IdentityAccess.user_id).order_by(IdentityAccess.id)
    if rid:
        query = query.where(IdentityAccess.request_id == rid)
    return [tuple(r) for r in model.Session.execute(query).all()]


def _new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


# --- the NIK at rest ------------------------------------------------------------------------

def test_the_table_holds_no_clear_nik_and_the_hash_matches(office):
    rid = submit()["id"]
    raw = _raw(rid)
    assert raw["identity_number"].startswith("nik1:")
    assert NIK not in raw["whole"]  # nor in the search vector or any other column
    assert raw["identity_number_hash"] == crypto.lookup_hash(NIK)
    assert raw["identity_number_hash"] != crypto.lookup_hash(OTHER_NIK)
    # the same number encrypts differently each time (random nonce), the hash does not change
    other = submit(identity_number=NIK)["id"]
    assert _raw(other)["identity_number"] != raw["identity_number"]
    assert _raw(other)["identity_number_hash"] == raw["identity_number_hash"]
    # the code reads the clear number
    model.Session.expire_all()
    request = model.Session.get(Request, rid)
    assert request.identity_number == NIK
    # purging the personal data (purge-personal-data) takes the hash with the number
    request.identity_number = None
    model.Session.commit()
    assert (_raw(rid)["identity_number"], _raw(rid)["identity_number_hash"]) == (None, None)


def test_show_decrypts_for_requester_and_staff_and_records_only_the_officials_view(office):
    rid = submit()["id"]
    assert act("pemohon1", "statrequest_show", id=rid)["identity_number"] == NIK
    assert _nik_views() == []  # the requester's own view is not an access to record
    assert act("kasi", "statrequest_show", id=rid)["identity_number"] == NIK
    assert act(office.sysadmin, "statrequest_show", id=rid)["identity_number"] == NIK
    assert _nik_views(rid) == [("nik", "kasi"), ("nik", office.sysadmin)]
    # the Secretary sees them in the identity-access list, newest first
    listed = act("sekretaris", "statrequest_identity_access_list", id=rid)
    assert [(e["kind"], e["user_name"]) for e in listed] == [
        ("nik", office.sysadmin), ("nik", "kasi")]
    assert listed[0]["attachment_id"] is None and listed[0]["accessed_at"]
    # lists and the result of a step keep it masked, and record nothing
    row = act("kasi", "statrequest_list")["results"][0]
    assert row["identity_number"] == "6104********8901"
    moved = fire("sekretaris", rid, "teruskan_ke_kadis")
    assert moved["identity_number"] == "6104********8901"
    assert len(_nik_views(rid)) == 2


def test_an_export_carries_no_nik_and_records_no_view(office):
    submit()
    result = act("sekretaris", "statrequest_stats_export")
    assert len(result["rows"]) == 1 and NIK not in repr(result)
    assert _nik_views() == []


def test_officials_find_a_request_by_its_exact_nik(office):
    mine = submit()["id"]
    submit(user="pemohon2", identity_number=OTHER_NIK)
    found = act("kasi", "statrequest_list", q=NIK)
    assert [r["id"] for r in found["results"]] == [mine]
    assert act("kasi", "statrequest_list", q="6104 0123 4567 8901")["count"] == 1
    assert act("kasi", "statrequest_list", q=NIK[:-1] + "0")["count"] == 0
    # not an oracle for those who may not see the number
    assert act("pemohon2", "statrequest_list", q=NIK)["count"] == 0


def test_a_wrong_or_missing_key_fails_clearly_and_an_old_key_still_reads(office, monkeypatch):
    rid = submit()["id"]
    old = tk.config[crypto.KEY_OPTION]
    monkeypatch.setitem(tk.config, crypto.KEY_OPTION, _new_key())
    model.Session.expire_all()
    with pytest.raises(crypto.PersonalDataKeyError, match="not configured.*personal_data_key"):
        model.Session.get(Request, rid).identity_number  # noqa: B018
    model.Session.rollback()
    # the former key listed for reading: old rows open, and are found by their old hash
    monkeypatch.setitem(tk.config, crypto.OLD_KEYS_OPTION, [old])
    model.Session.expire_all()
    assert model.Session.get(Request, rid).identity_number == NIK
    assert act("kasi", "statrequest_list", q=NIK)["count"] == 1
    new = submit()["id"]
    assert _raw(new)["identity_number"].split(":")[1] != _raw(rid)["identity_number"].split(":")[1]
    model.Session.rollback()
    monkeypatch.setitem(tk.config, crypto.KEY_OPTION, "dGVybGFsdS1wZW5kZWs=")
    with pytest.raises(crypto.PersonalDataKeyError, match="32 random bytes"):
        crypto.check_configuration()
    monkeypatch.setitem(tk.config, crypto.KEY_OPTION, "")
    with pytest.raises(crypto.PersonalDataKeyError, match="is not set"):
        crypto.encrypt(NIK)


def test_ckan_refuses_to_start_without_the_key(tmp_path):
    ini = tmp_path / "nokey.ini"
    ini.write_text(f"[app:main]\nuse = config:{ROOT / 'test.ini'}\n"
                   "ckanext.statrequest.personal_data_key =\n")
    out = subprocess.run([str(Path(sys.executable).with_name("ckan")), "-c", str(ini),
                          "db", "version"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode != 0
    assert "ckanext.statrequest.personal_data_key is not set" in out.stdout + out.stderr


def test_migration_encrypts_existing_rows_and_decrypts_them_on_the_way_down(office,
                                                                            migrate_db_for):
    rid = submit()["id"]
    act("kasi", "statrequest_show", id=rid)
    model.Session.remove()
    migrate_db_for("statrequest", version="0004_feedback", forward=False)
    row = model.Session.execute(text(
        "SELECT * FROM statrequest_request WHERE id = :id"), {"id": rid}).mappings().one()
    assert row["identity_number"] == NIK and "identity_number_hash" not in row
    access_columns = model.Session.execute(text(
        "SELECT * FROM statrequest_identity_access LIMIT 0")).keys()
    assert "kind" not in list(access_columns)
    model.Session.remove()
    migrate_db_for("statrequest", version="head", forward=True)
    raw = _raw(rid)
    assert raw["identity_number"].startswith("nik1:") and NIK not in raw["whole"]
    assert raw["identity_number_hash"] == crypto.lookup_hash(NIK)
    assert act("pemohon1", "statrequest_show", id=rid)["identity_number"] == NIK


# --- office documents by their inner structure ---------------------------------------------

def _zip(entries: list[tuple[str, bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data, method in entries:
            z.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buf.getvalue()


def _content_types(part: str, content_type: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>').encode()


DEFLATED, STORED = zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
SHEET_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
RELS = (b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        b'2006/relationships"/>')


def docx() -> bytes:
    return _zip([("[Content_Types].xml", _content_types("word/document.xml", WORD_MAIN), DEFLATED),
                 ("_rels/.rels", RELS, DEFLATED),
                 ("word/document.xml", b'<w:document xmlns:w="urn:w"><w:body/></w:document>',
                  DEFLATED)])


def xlsx() -> bytes:
    return _zip([("[Content_Types].xml", _content_types("xl/workbook.xml", SHEET_MAIN), DEFLATED),
                 ("_rels/.rels", RELS, DEFLATED),
                 ("xl/workbook.xml", b'<workbook xmlns="urn:x"><sheets/></workbook>', DEFLATED)])


def odf(kind: str, mimetype_method: int = STORED) -> bytes:
    return _zip([("mimetype", f"application/vnd.oasis.opendocument.{kind}".encode(),
                  mimetype_method),
                 ("content.xml", b"<office:document-content xmlns:office='urn:o'/>", DEFLATED),
                 ("META-INF/manifest.xml", b"<manifest/>", DEFLATED)])


def plain_zip() -> bytes:
    return _zip([("data.csv", b"a,b\n1,2\n", DEFLATED), ("readme.txt", b"hello", DEFLATED)])


@pytest.mark.parametrize("name, content, media_type", [
    ("formulir.docx", docx, attachments.OFFICE[1]),
    ("formulir.xlsx", xlsx, attachments.OFFICE[0]),
    ("formulir.odt", lambda: odf("text"), attachments.OFFICE[3]),
    ("formulir.ods", lambda: odf("spreadsheet"), attachments.OFFICE[2]),
])
def test_real_office_documents_are_accepted(name, content, media_type):
    assert attachments.prepare("data_form", upload(name, content())).media_type == media_type


def _bomb() -> bytes:
    # 50 MB of descriptor in a few dozen KB: refused after reading at most 1 MB of it
    return _zip([("[Content_Types].xml", b" " * (50 * 1024 * 1024), DEFLATED),
                 ("word/document.xml", b"<w/>", DEFLATED)])


def _entity_expansion() -> bytes:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
              b'<Types>&lol2;</Types>')
    return _zip([("[Content_Types].xml", laughs, DEFLATED), ("word/document.xml", b"<w/>",
                                                              DEFLATED)])


def _magic_bait() -> bytes:
    """Looks like a docx to libmagic (first entry, a word/ folder) but declares no document."""
    return _zip([("[Content_Types].xml", _content_types("word/x.bin", "application/x-msdownload"),
                  DEFLATED), ("word/x.bin", b"MZ\x90\x00" * 64, DEFLATED)])


def _main_part_missing() -> bytes:
    return _zip([("[Content_Types].xml", _content_types("word/document.xml", WORD_MAIN),
                  DEFLATED), ("word/other.xml", b"<w/>", DEFLATED)])


@pytest.mark.parametrize("name, content", [
    ("formulir.docx", plain_zip),
    ("formulir.xlsx", plain_zip),
    ("formulir.odt", plain_zip),
    ("formulir.docx", _magic_bait),
    ("formulir.docx", _main_part_missing),
    ("formulir.xlsx", lambda: docx()[:-40]),  # damaged: the central directory is cut
    ("formulir.docx", lambda: docx()[:30] + b"\x00" * 200 + docx()[230:]),  # corrupted
    ("formulir.odt", lambda: odf("text", DEFLATED)),  # mimetype must be stored as is
    ("formulir.docx", _bomb),
    ("formulir.docx", _entity_expansion),
])
def test_zips_that_only_claim_to_be_office_documents_are_refused(name, content):
    with pytest.raises(tk.ValidationError) as exc:
        attachments.prepare("data_form", upload(name, content()))
    message = exc.value.error_dict["data_form"][0]
    assert name in message and "not a valid" in message


def test_a_renamed_zip_in_a_submission_is_refused_and_nothing_is_stored(office):
    files_before = model.Session.scalar(select(func.count()).select_from(model.File))
    with pytest.raises(tk.ValidationError) as exc:
        act("pemohon1", "statrequest_create",
            **request_data(data_form=upload("formulir-permintaan.docx", plain_zip())))
    assert "formulir-permintaan.docx is not a valid DOCX file" in \
        exc.value.error_dict["data_form"][0]
    assert model.Session.scalar(select(func.count()).select_from(Request)) == 0
    assert model.Session.scalar(select(func.count()).select_from(model.File)) == files_before
    # as a result, where a plain ZIP is allowed, a ZIP named as a document is still refused
    assert attachments.prepare("result", upload("hasil.zip", plain_zip())).media_type == \
        "application/zip"
    with pytest.raises(tk.ValidationError):
        attachments.prepare("result", upload("hasil.docx", plain_zip()))
    # and a PDF stays a PDF whatever its name
    assert attachments.prepare("data_form", upload("f.docx", pdf_bytes())).media_type == \
        attachments.PDF


# --- guest links expire ---------------------------------------------------------------------

@pytest.mark.ckan_config("ckanext.statrequest.guest_mode", "true")
@pytest.mark.ckan_config("ckanext.statrequest.guest_link_days", "30")
def test_guest_links_expire(office, app):
    issued = dt.datetime.now(dt.timezone.utc)
    with freeze_time(issued):
        created = act(None, "statrequest_create", **request_data(email="tamu@example.test"))
    token = created["guest_link"].rsplit("/", 1)[1]
    rid = created["id"]
    with freeze_time(issued + dt.timedelta(days=29, hours=23)):
        assert act(None, "statrequest_show", id=rid, token=token)["identity_number"] == NIK
        assert created["tracking_number"] in app.get(f"/permintaan-data/tamu/{token}").body
    with freeze_time(issued + dt.timedelta(days=30, hours=1)):
        assert guest.check(token) == (guest.Status.EXPIRED, None)
        with pytest.raises(tk.NotAuthorized):
            act(None, "statrequest_show", id=rid, token=token)
        for prefix in ("", "/en"):
            page = app.get(f"{prefix}/permintaan-data/tamu/{token}", status=410)
            assert 'id="guest-link-expired"' in page.body
            assert "/permintaan-data/lacak" in page.body
            assert created["tracking_number"] not in page.body
        assert "30 days" in app.get(f"/en/permintaan-data/tamu/{token}", status=410).body
        assert app.post(f"/permintaan-data/tamu/{token}/aksi", data={}, status=410)
        # a fresh link (as every new email carries) works again
        fresh = guest.make_token(rid)
        assert act(None, "statrequest_show", id=rid, token=fresh)["id"] == rid
    # a forged token is still "not valid", not "expired"
    assert app.get(f"/permintaan-data/tamu/{token[:-2]}xx", status=404)
    as_sysadmin("statrequest_show", id=rid)
