"""Access leaks: files, exports, deletions and CKAN's own actions follow the access table.

Who sees what of a request: the requester their own request (with their identity document,
letter and form, the signed reply and the data delivered with it, but not what the OPD sent
before the reply is signed), Diskominfo position holders everything, the admins of the OPD it
was routed to everything but the personal data, nobody else anything. Personal data never
leaves in an export. Each test below failed before its fix.
"""
from __future__ import annotations

import csv
import io
from typing import Any

import ckan.model as model
import ckantoolkit as tk
import pytest
from sqlalchemy import func, select
from support import PASSPHRASE, act, as_sysadmin, fire, png_bytes, submit, upload

from ckanext.statrequest.lib import attachments, delivery
from ckanext.statrequest.model import Attachment, Event, IdentityAccess

pytestmark = pytest.mark.usefixtures("with_plugins")

NIK = "6104012345678901"  # what support.request_data() submits
CSV = b"puskesmas,dokter,bidan\nKetapang,4,12\n"


def _to_opd(rid: str, opd_id: str) -> None:
    fire("sekretaris", rid, "teruskan_ke_kadis")
    fire("kadis", rid, "disposisi_ke_kabid", instruction="Mohon ditindaklanjuti.")
    fire("kabid", rid, "disposisi_ke_kasi", instruction="Koordinasikan dengan Dinkes.")
    fire("kasi", rid, "tugaskan_staf", assignee="staf1", instruction="Siapkan datanya.")
    fire("staf1", rid, "teruskan_ke_opd", opd=[opd_id])


def _to_signature(rid: str) -> None:
    fire("staf1", rid, "hasil_sesuai", outcome="dipenuhi", note="Data sesuai permintaan.")
    fire("kasi", rid, "teruskan_ke_kabid")
    fire("kabid", rid, "paraf_kabid", passphrase=PASSPHRASE)
    fire("sekretaris", rid, "paraf_sekretaris", passphrase=PASSPHRASE)
    assert fire("kadis", rid, "tandatangani", passphrase=PASSPHRASE)["state"] == "selesai"


def _row(rid: str, kind: str) -> Attachment:
    return model.Session.scalars(select(Attachment).where(
        Attachment.request_id == rid, Attachment.kind == kind,
        Attachment.deleted_at.is_(None))).one()


def _kinds(user: str, rid: str) -> set[str]:
    return {a["kind"] for a in act(user, "statrequest_show", id=rid)["attachments"]}


def _token(user: str) -> dict[str, str]:
    return {"Authorization": as_sysadmin("api_token_create", user=user, name="uji")["token"]}


def _identity_accesses() -> int:
    return model.Session.scalar(select(func.count()).select_from(IdentityAccess))


# --- 7: the OPD's answer reaches the requester with the signed reply, not before -----------

@pytest.mark.usefixtures("test_pki")
def test_requester_gets_the_results_only_once_delivered(office, app):
    dinkes = office.opd["dinas-kesehatan"]
    rid = submit()["id"]
    _to_opd(rid, dinkes["id"])
    fire(dinkes["admin"], rid, "unggah_hasil", result=upload("nakes-2025.csv", CSV))
    result = _row(rid, "result").id
    url = f"/permintaan-data/berkas/{result}"

    # being checked by Diskominfo: it may still be rejected
    assert "result" not in _kinds("pemohon1", rid)
    with pytest.raises(tk.NotAuthorized):
        act("pemohon1", "statrequest_attachment_show", id=result)
    with pytest.raises(tk.NotAuthorized):
        act("pemohon1", "statrequest_attachment_download", id=result)
    app.set_session_user("pemohon1")
    assert app.get(url, status=None).status_code == 403
    for user in ("staf1", "kasi", dinkes["admin"]):  # who checks and who sent it
        assert "result" in _kinds(user, rid), user
    for user in ("pemohon2", "admin-pendidikan"):
        with pytest.raises(tk.NotAuthorized):
            act(user, "statrequest_attachment_show", id=result)

    _to_signature(rid)
    assert {"result", "signed_reply"} <= _kinds("pemohon1", rid)
    app.set_session_user("pemohon1")
    got = app.get(url, status=None)
    assert got.status_code == 200 and got.data == CSV


# --- 8: exports never carry personal data ------------------------------------------------

def test_exports_never_carry_personal_data(office, app):
    submit()
    for user in ("sekretaris", "staf1", office.sysadmin):
        with pytest.raises(tk.ValidationError) as refused:
            act(user, "statrequest_stats_export", include_personal=True)
        assert "include_personal" in refused.value.error_dict
        result = act(user, "statrequest_stats_export")
        assert len(result["rows"]) == 1
        for column in ("requester_name", "identity_number", "email", "phone", "address"):
            assert column not in result["columns"], (user, column)
        assert NIK not in repr(result) and "dewi@example.test" not in repr(result)

    app.set_session_user("staf1")
    for fmt in ("csv", "xlsx"):
        res = app.get(f"/permintaan-data/statistik/ekspor.{fmt}",
                      query_string={"include_personal": "1"}, status=None)
        assert res.status_code == 400, fmt
        assert "data pribadi" in res.get_data(as_text=True)  # the message, in Indonesian
    res = app.get("/permintaan-data/statistik/ekspor.csv")
    assert res.status_code == 200
    body = res.data.decode("utf-8-sig")
    assert NIK not in body and "0812-3456-7890" not in body and "Merdeka" not in body
    assert len(list(csv.DictReader(io.StringIO(body)))) == 1
    page = app.get("/permintaan-data/statistik").get_data(as_text=True)
    assert 'name="include_personal"' not in page


# --- 9: record files are deleted by nobody, sysadmins included, except as a logged repair --

def test_the_record_stays_even_for_a_sysadmin(office, app):
    rid = submit()["id"]
    form = _row(rid, "data_form")
    before = b"".join(attachments.read(form.file_id))
    admin = office.sysadmin

    with pytest.raises(tk.ValidationError) as refused:
        act(admin, "statrequest_attachment_delete", id=form.id)
    assert "reason" in refused.value.error_dict
    res = app.post("/api/3/action/statrequest_attachment_delete", json={"id": form.id},
                   headers=_token(admin), status=None)
    assert 400 <= res.status_code < 500
    for user in ("pemohon1", "kasi"):  # the uploader too: it was handed in with the request
        with pytest.raises(tk.NotAuthorized):
            act(user, "statrequest_attachment_delete", id=form.id)
    # CKAN's own file API is no way around it
    res = app.post("/api/3/action/file_delete", json={"id": form.file_id},
                   headers=_token(admin), status=None)
    assert res.status_code == 403
    model.Session.remove()
    form = _row(rid, "data_form")
    assert b"".join(attachments.read(form.file_id)) == before
    assert "data_form" in _kinds("pemohon1", rid)

    # a repair with a reason is possible, and it is on the record
    act(admin, "statrequest_attachment_delete", id=form.id,
        reason="Berkas terunggah dua kali karena gangguan jaringan.")
    assert "data_form" not in _kinds("kasi", rid)
    (event,) = model.Session.scalars(select(Event).where(
        Event.request_id == rid, Event.transition == "override")).all()
    assert event.actor_id == model.User.get(admin).id and event.visibility == "internal"
    assert event.data["removed_file"]["sha256"] == form.sha256
    assert "dua kali" in event.note


# --- 10: the download action over the API answers cleanly, and logs only bytes served ----

def test_download_over_the_api_answers_with_the_address(office, app):
    rid = submit()["id"]
    identity = _row(rid, "identity_document").id
    kasi = _token("kasi")

    res = app.post("/api/3/action/statrequest_attachment_download", json={"id": identity},
                   headers=kasi, status=None)
    assert res.status_code == 200, res.get_data(as_text=True)
    got = res.json["result"]
    assert "stream" not in got and got["kind"] == "identity_document"
    assert got["url"].endswith(f"/permintaan-data/berkas/{identity}")
    assert _identity_accesses() == 0  # nothing was opened yet
    res = app.get("/api/3/action/statrequest_attachment_download", query_string={
        "id": identity}, headers=_token("admin-kesehatan"), status=None)
    assert res.status_code == 403

    served = app.get(f"/permintaan-data/berkas/{identity}", headers=kasi)
    assert served.data == png_bytes()
    assert "no-store" in served.headers["Cache-Control"]
    assert _identity_accesses() == 1


# --- 11: CKAN's file actions on our files follow the same rule, and never fail ------------

def test_ckans_file_actions_follow_the_access_table(office, app):
    dinkes = office.opd["dinas-kesehatan"]
    rid = submit()["id"]
    _to_opd(rid, dinkes["id"])
    identity, letter = _row(rid, "identity_document"), _row(rid, "request_letter")
    tokens = {user: _token(user) for user in
              ("pemohon1", "pemohon2", "kasi", dinkes["admin"], "admin-pendidikan")}
    tokens[None] = {}
    tokens[office.sysadmin] = _token(office.sysadmin)

    def status(user: str | None, action: str, **data: Any) -> int:
        res = app.post(f"/api/3/action/{action}", json=data, headers=tokens[user], status=None)
        assert res.status_code < 500, (user, action, res.get_data(as_text=True))
        return res.status_code

    scan = {"owner_type": "statrequest_request", "owner_id": rid}
    assert status("kasi", "file_owner_scan", **scan) == 200
    for user in ("pemohon1", dinkes["admin"], "pemohon2", None):
        assert status(user, "file_owner_scan", **scan) == 403, user
    listed = app.post("/api/3/action/file_owner_scan", json=scan, headers=tokens["kasi"])
    assert listed.json["result"]["count"] == 3  # identity document, letter, data form

    readers = {identity.file_id: {"pemohon1", "kasi", office.sysadmin},
               letter.file_id: {"pemohon1", "kasi", office.sysadmin, dinkes["admin"]}}
    for file_id, allowed in readers.items():
        for user in tokens:
            got = status(user, "file_show", id=file_id)
            assert got == (200 if user in allowed else 403), (user, file_id, got)
    for user in (office.sysadmin, "pemohon1", "kasi"):  # nobody changes them through CKAN
        assert status(user, "file_rename", id=letter.file_id, name="lain.pdf") == 403, user
        assert status(user, "file_ownership_transfer", id=letter.file_id, owner_type="user",
                      owner_id=model.User.get("kasi").id, force=True) == 403, user
    # bytes leave only through the request's download address (it records identity views)
    app.set_session_user(office.sysadmin)
    assert app.get(f"/file/download/{identity.file_id}", status=None).status_code == 404
    assert _identity_accesses() == 0
    model.Session.remove()
    assert model.Session.get(model.File, letter.file_id).name.endswith("surat.pdf")


# --- 12: delivery datasets are not cached and not listed to outsiders --------------------

@pytest.mark.usefixtures("test_pki")
def test_delivery_downloads_are_not_cached_and_not_listed(office, app):
    from ckan.tests import factories

    dinkes = office.opd["dinas-kesehatan"]
    rid = submit()["id"]
    _to_opd(rid, dinkes["id"])
    fire(dinkes["admin"], rid, "unggah_hasil", result=upload("nakes-2025.csv", CSV))
    _to_signature(rid)
    package_id = delivery.deliver(rid)
    public = factories.Dataset(owner_org=office.diskominfo)
    model.Session.remove()
    pkg = as_sysadmin("package_show", id=package_id)

    for user in ("pemohon1", "kasi", dinkes["admin"]):
        app.set_session_user(user)
        for res in pkg["resources"]:
            got = app.get(f"/dataset/{package_id}/resource/{res['id']}/download/"
                          f"{res['url'].rsplit('/', 1)[-1]}")
            cache = got.headers.get("Cache-Control", "")
            assert "no-store" in cache and "private" in cache and "public" not in cache, \
                (user, cache)

    app.set_session_user(None)  # the callers below are who their token says, or nobody

    def members(headers: dict[str, str]) -> set[str]:
        res = app.get("/api/3/action/member_list", headers=headers,
                      query_string={"id": "diskominfo", "object_type": "package"})
        return {row[0] for row in res.json["result"]}

    for user in (None, "pemohon2", "admin-pendidikan"):
        listed = members(_token(user) if user else {})
        assert package_id not in listed and public["id"] in listed, user
    for user in ("kasi", "pemohon1"):
        assert package_id in members(_token(user)), user
    # publishing is the requester's and the OPD's decision, not the portal administrator's
    with pytest.raises(tk.NotAuthorized):
        act(office.sysadmin, "statrequest_publish_consent", id=rid)
    with pytest.raises(tk.NotAuthorized):
        act(office.sysadmin, "statrequest_publish_open", id=rid, organization=dinkes["id"])


# --- 17: chained auth functions keep CKAN's answer for datasets that are not ours -----------

@pytest.mark.ckan_config("ckan.auth.anon_create_dataset", True)
@pytest.mark.ckan_config("ckan.auth.create_unowned_dataset", True)
@pytest.mark.ckan_config("ckan.auth.create_dataset_if_not_in_organization", True)
def test_chained_auth_keeps_ckans_rules_for_other_datasets(clean_db):
    from ckan.tests import factories

    dataset = factories.Dataset()
    model.Session.remove()
    anonymous: dict[str, Any] = {"user": "", "ignore_auth": False}
    # core lets anonymous visitors edit unowned datasets with these settings
    assert tk.check_access("package_update", dict(anonymous), {"id": dataset["id"]})
    # and still refuses them what it refuses
    for action, data in (("package_delete", {"id": dataset["id"]}),
                         ("resource_create", {"package_id": dataset["id"]}),
                         ("bulk_update_public", {"datasets": [dataset["id"]]})):
        with pytest.raises(tk.NotAuthorized):
            tk.check_access(action, dict(anonymous), data)
