"""Reasons for refusals and partial answers (UU 14/2008 Pasal 17 and the "no data" grounds):
chosen from the configured list, required for a refusal, stored with the decision, shown on the
request page, printed on the reply letter and counted in the statistics."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess

import ckan.model as model
import ckantoolkit as tk
import pytest
from support import PASSPHRASE, act, as_sysadmin, fire, submit, walk

from ckanext.statrequest.lib import attachments, stats
from ckanext.statrequest.model import Attachment, Event, Request

pytestmark = pytest.mark.usefixtures("with_plugins", "test_pki")

PRIVATE = "Pasal 17 huruf h UU 14/2008: mengungkap rahasia pribadi"
CUSTOM = ("rahasia_dagang | Rahasia dagang pihak ketiga | Third party's trade secret\n"
          "data_tidak_dikuasai | Data tidak dikuasai | Data not held")


def _letter_text(rid: str) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext missing (apt-get install poppler-utils)")
    model.Session.expire_all()
    row = model.Session.get(Attachment, model.Session.get(Request, rid).letter_attachment_id)
    pdf = b"".join(attachments.read(row.file_id))
    out = subprocess.run([exe, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                         check=True, timeout=30).stdout.decode("utf-8")
    return " ".join(out.split())


def _events(rid: str) -> int:
    model.Session.expire_all()
    return model.Session.query(Event).filter(Event.request_id == rid).count()


def _refused_without_change(rid: str, **inputs) -> dict:
    before, events = as_sysadmin("statrequest_show", id=rid), _events(rid)
    with pytest.raises(tk.ValidationError) as refused:
        fire(inputs.pop("user", "sekretaris"), rid, inputs.pop("transition", "tolak"), **inputs)
    after = as_sysadmin("statrequest_show", id=rid)
    assert (after["state"], after["version"], after["outcome"]) == (
        before["state"], before["version"], before["outcome"])
    assert after["attachments"] == before["attachments"] and _events(rid) == events
    return refused.value.error_dict


def test_refusal_with_a_pasal_17_reason_is_printed_on_the_letter(office):
    rid = submit()["id"]
    shown = fire("sekretaris", rid, "tolak", reason="pasal17h",
                 note="Data memuat nama dan alamat pasien.")
    assert shown["outcome"] == "ditolak"
    assert shown["reason"] == {"code": "pasal17h", "label": PRIVATE}
    draft = _letter_text(rid)
    assert "belum dapat dipenuhi" in draft and PRIVATE in draft
    assert "Data memuat nama dan alamat pasien." in draft  # the free text follows the ground
    (event,) = [e for e in act("sekretaris", "statrequest_event_list", id=rid)
                if e["transition"] == "tolak"]
    assert event["data"]["reason"] == "pasal17h" and event["reason_label"] == PRIVATE
    fire("kabid", rid, "paraf_kabid", passphrase=PASSPHRASE)
    fire("sekretaris", rid, "paraf_sekretaris", passphrase=PASSPHRASE)
    done = fire("kadis", rid, "tandatangani", passphrase=PASSPHRASE)
    assert done["state"] == "selesai"
    assert PRIVATE in _letter_text(rid)  # the signed letter, as the requester receives it
    assert act("pemohon1", "statrequest_show", id=rid)["reason"]["code"] == "pasal17h"


def test_refusal_without_a_reason_is_refused_and_changes_nothing(office):
    rid = submit()["id"]
    errors = _refused_without_change(rid, note="Dikecualikan.")
    assert errors["reason"] == ["Choose the reason for the refusal."]  # the page: test below


@pytest.mark.parametrize("code", ["pasal17z", "PASAL17H", "x" * 65, "<b>pasal17h</b>"])
def test_unknown_reason_is_refused_and_changes_nothing(office, code):
    rid = submit()["id"]
    errors = _refused_without_change(rid, note="Dikecualikan.", reason=code)
    assert "reason" in errors


def test_a_step_that_decides_nothing_takes_no_reason(office):
    rid = submit()["id"]
    errors = _refused_without_change(rid, transition="teruskan_ke_kadis", reason="pasal17h")
    assert "reason" in errors


def test_staff_choose_the_outcome_and_its_reason(office):
    rid = walk(office, submit()["id"], "unggah_hasil")
    assert "reason" in _refused_without_change(
        rid, user="staf1", transition="hasil_sesuai", outcome="ditolak", note="Tidak ada.")
    assert "reason" in _refused_without_change(
        rid, user="staf1", transition="hasil_sesuai", outcome="dipenuhi", note="Lengkap.",
        reason="data_belum_tersedia")
    shown = fire("staf1", rid, "hasil_sesuai", outcome="dipenuhi_sebagian",
                 note="Data 2025 belum dirilis.", reason="data_belum_tersedia")
    assert shown["reason"]["code"] == "data_belum_tersedia"
    text = _letter_text(rid)
    assert "dapat dipenuhi sebagian" in text
    assert "Data belum tersedia atau belum diproduksi" in text


def test_the_agency_says_why_the_data_is_not_available(office):
    rid = walk(office, submit()["id"], "teruskan_ke_opd")
    admin = office.opd["dinas-kesehatan"]["admin"]
    fire(admin, rid, "data_tidak_tersedia", note="Belum pernah dikumpulkan.",
         reason="data_tidak_dikuasai")
    (event,) = [e for e in act("staf1", "statrequest_event_list", id=rid)
                if e["transition"] == "data_tidak_tersedia"]
    assert event["data"]["reason"] == "data_tidak_dikuasai"
    assert act("staf1", "statrequest_show", id=rid)["reason"] is None  # nothing decided yet


@pytest.mark.ckan_config("ckanext.statrequest.reasons", CUSTOM)
def test_a_configured_list_replaces_the_default_one(office):
    rid = submit()["id"]
    assert "reason" in _refused_without_change(rid, note="x", reason="pasal17h")
    offered = [t for t in act("sekretaris", "statrequest_available_transitions", id=rid)
               if t["name"] == "tolak"]
    assert offered[0]["reason"] == "required"
    shown = fire("sekretaris", rid, "tolak", note="Milik pihak ketiga.", reason="rahasia_dagang")
    assert shown["reason"] == {"code": "rahasia_dagang", "label": "Rahasia dagang pihak ketiga"}
    assert "Rahasia dagang pihak ketiga" in _letter_text(rid)


def _refuse_and_sign(reason: str) -> str:
    rid = submit()["id"]
    fire("sekretaris", rid, "tolak", note="Sesuai ketentuan.", reason=reason)
    fire("kabid", rid, "paraf_kabid", passphrase=PASSPHRASE)
    fire("sekretaris", rid, "paraf_sekretaris", passphrase=PASSPHRASE)
    fire("kadis", rid, "tandatangani", passphrase=PASSPHRASE)
    return rid


def test_statistics_count_each_reason(office, app):
    for reason in ("pasal17h", "pasal17h", "bukan_data_statistik"):
        _refuse_and_sign(reason)
    open_refusal = submit()["id"]  # decided but not signed yet: not an answer given
    fire("sekretaris", open_refusal, "tolak", note="x", reason="pasal17c")
    figures = act("sekretaris", "statrequest_stats")
    assert [(r["reason"], r["count"], r["outcomes"]) for r in figures["by_reason"]] == [
        ("pasal17h", 2, {"ditolak": 2}), ("bukan_data_statistik", 1, {"ditolak": 1})]
    assert figures["by_reason"][0]["label"] == PRIVATE
    assert act(None, "statrequest_stats_public")["by_reason"] == figures["by_reason"]
    export = act("sekretaris", "statrequest_stats_export")
    rows = list(csv.DictReader(io.StringIO(
        stats.to_csv(export["columns"], export["rows"]).decode("utf-8-sig"))))
    assert sorted(r["reason"] for r in rows) == [
        "bukan_data_statistik", "pasal17c", "pasal17h", "pasal17h"]
    app.set_session_user("sekretaris")
    page = app.get("/permintaan-data/statistik").body
    assert 'id="stats-by-reason"' in page and PRIVATE in page


def test_request_page_shows_the_reason_and_the_form_asks_for_it(office, make_app):
    rid = submit()["id"]
    number = as_sysadmin("statrequest_show", id=rid)["tracking_number"]
    app = make_app()
    app.set_session_user("sekretaris")
    page = app.get(f"/permintaan-data/{number}").body
    assert 'id="tolak-reason"' in page and PRIVATE in page  # the list in the refusal form
    res = app.post(f"/permintaan-data/{number}/aksi", data={
        "transition": "tolak", "version": "1", "note": "Dikecualikan."})
    assert "Pilih alasan penolakan." in res.body
    assert as_sysadmin("statrequest_show", id=rid)["state"] == "diajukan"
    app.post(f"/permintaan-data/{number}/aksi", data={
        "transition": "tolak", "version": "1", "note": "Dikecualikan.", "reason": "pasal17h"})
    assert as_sysadmin("statrequest_show", id=rid)["outcome"] == "ditolak"
    page = app.get(f"/permintaan-data/{number}").body
    assert 'id="request-reason"' in page and PRIVATE in page
    english = app.get(f"/en/permintaan-data/{number}").body
    assert "Law 14/2008 Art. 17(h): would reveal personal secrets" in english


def test_a_malformed_list_stops_ckan(tmp_path):
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    ini = tmp_path / "alasan.ini"
    ini.write_text(f"[app:main]\nuse = config:{root / 'test.ini'}\n"
                   "ckanext.statrequest.reasons =\n    baik | Baik | Fine\n    Buruk Sekali\n")
    out = subprocess.run([str(Path(sys.executable).with_name("ckan")), "-c", str(ini), "db",
                          "version"], capture_output=True, text=True, cwd=root, timeout=120)
    assert out.returncode != 0
    assert "ckanext.statrequest.reasons" in out.stdout + out.stderr
    assert "line 2: code 'Buruk Sekali'" in out.stdout + out.stderr
