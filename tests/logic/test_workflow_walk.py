"""The complete default workflow through the action API, one user per position."""
from __future__ import annotations

import pytest
from support import PASSPHRASE, act, as_sysadmin, fire, submit, upload

from ckanext.statrequest.documents.verify import verify_pdf

pytestmark = pytest.mark.usefixtures("with_plugins", "test_pki")


def _to_staff(rid: str) -> None:
    fire("sekretaris", rid, "teruskan_ke_kadis")
    fire("kadis", rid, "disposisi_ke_kabid", instruction="Mohon ditindaklanjuti.")
    fire("kabid", rid, "disposisi_ke_kasi", instruction="Koordinasikan dengan Dinkes.")
    fire("kasi", rid, "tugaskan_staf", assignee="staf1", instruction="Tolong siapkan datanya.")


def _results_from_opd(rid: str, opd_admin: str, opd_id: str) -> None:
    fire("staf1", rid, "teruskan_ke_opd", opd=[opd_id])
    fire(opd_admin, rid, "unggah_hasil",
         result=upload("nakes-2025.csv", b"puskesmas,dokter,bidan\nKetapang,4,12\n"))


def _sign_chain(rid: str) -> dict:
    fire("kabid", rid, "paraf_kabid", passphrase=PASSPHRASE)
    fire("sekretaris", rid, "paraf_sekretaris", passphrase=PASSPHRASE)
    return fire("kadis", rid, "tandatangani", passphrase=PASSPHRASE)


def _signed_letter(rid: str) -> bytes:
    from ckanext.statrequest.lib import attachments

    shown = act("pemohon1", "statrequest_show", id=rid)
    (letter,) = [a for a in shown["attachments"] if a["kind"] == "signed_reply"]
    return b"".join(attachments.read(
        __import__("ckan.model", fromlist=["Session"]).Session.get(
            __import__("ckanext.statrequest.model", fromlist=["Attachment"]).Attachment,
            letter["id"]).file_id))


def _roots(test_pki):
    from asn1crypto import pem, x509

    with open(test_pki["root"], "rb") as f:
        _, _, der = pem.unarmor(f.read())
    return [x509.Certificate.load(der)]


@pytest.mark.parametrize("outcome", ["dipenuhi", "dipenuhi_sebagian"])
def test_fulfilled_and_partly_fulfilled(office, outcome, test_pki):
    dinkes = office.opd["dinas-kesehatan"]
    r = submit()
    rid = r["id"]
    _to_staff(rid)
    _results_from_opd(rid, dinkes["admin"], dinkes["id"])
    fire("staf1", rid, "hasil_sesuai", outcome=outcome, note="Data sesuai permintaan.")
    fire("kasi", rid, "teruskan_ke_kabid")
    done = _sign_chain(rid)

    assert done["state"] == "selesai"
    assert done["outcome"] == outcome
    assert done["closed_at"]
    verdict = verify_pdf(_signed_letter(rid), _roots(test_pki))
    assert verdict.status == "valid"
    assert [s.field for s in verdict.signers if s.kind == "signature"] == ["Paraf1", "Paraf2", "TTE"]
    events = act("sekretaris", "statrequest_event_list", id=rid)
    assert [e["transition"] for e in events] == [
        "ajukan", "teruskan_ke_kadis", "disposisi_ke_kabid", "disposisi_ke_kasi",
        "tugaskan_staf", "teruskan_ke_opd", "unggah_hasil", "hasil_sesuai",
        "teruskan_ke_kabid", "paraf_kabid", "paraf_sekretaris", "tandatangani"]
    public = act("pemohon1", "statrequest_event_list", id=rid)
    assert {e["visibility"] for e in public} == {"public"}
    assert "tandatangani" in [e["transition"] for e in public]
    assert "disposisi_ke_kabid" not in [e["transition"] for e in public]


def test_refused_by_the_secretary(office):
    rid = submit()["id"]
    fire("sekretaris", rid, "tolak", note="Data yang diminta bersifat dikecualikan.", reason="pasal17j")
    done = _sign_chain(rid)
    assert done["state"] == "selesai"
    assert done["outcome"] == "ditolak"


def test_sent_back_for_repair_and_resubmitted(office):
    r = submit()
    rid = r["id"]
    paused = fire("sekretaris", rid, "minta_perbaikan", note="Surat permohonan belum ditandatangani.")
    assert paused["state"] == "perlu_perbaikan"
    assert paused["sla"]["status"] == "paused"
    back = fire("pemohon1", rid, "kirim_ulang",
                request_letter=upload("surat-ttd.pdf", __import__("support").pdf_bytes("ttd")))
    assert back["state"] == "diajukan"
    assert back["sla"]["status"] in ("on_time", "due_soon")
    letters = [a for a in back["attachments"] if a["kind"] == "request_letter"]
    assert len(letters) == 2
    # the requester sees why it was sent back
    notes = [e["note"] for e in act("pemohon1", "statrequest_event_list", id=rid)]
    assert "Surat permohonan belum ditandatangani." in notes


def test_withdrawn_by_the_requester(office):
    rid = submit()["id"]
    done = fire("pemohon1", rid, "batalkan")
    assert done["state"] == "dibatalkan"
    assert done["sla"]["status"] == "closed"


@pytest.mark.parametrize("returner,transition", [
    ("kabid", "kembalikan_oleh_kabid"),
    ("sekretaris", "kembalikan_oleh_sekretaris"),
    ("kadis", "kembalikan_oleh_kadis"),
])
def test_returned_at_each_paraf_step_needs_new_paraf(office, returner, transition, test_pki):
    dinkes = office.opd["dinas-kesehatan"]
    rid = submit()["id"]
    _to_staff(rid)
    _results_from_opd(rid, dinkes["admin"], dinkes["id"])
    fire("staf1", rid, "hasil_sesuai", outcome="dipenuhi", note="Sesuai.")
    fire("kasi", rid, "teruskan_ke_kabid")
    steps = {"kabid": [], "sekretaris": [("kabid", "paraf_kabid")],
             "kadis": [("kabid", "paraf_kabid"), ("sekretaris", "paraf_sekretaris")]}[returner]
    for user, step in steps:
        fire(user, rid, step, passphrase=PASSPHRASE)
    first_letter = as_sysadmin("statrequest_show", id=rid)["attachments"]
    back = fire(returner, rid, transition, note="Perbaiki redaksi paragraf kedua.")
    assert back["state"] == "pemeriksaan_kasi"
    fire("kasi", rid, "teruskan_ke_kabid")
    shown = as_sysadmin("statrequest_show", id=rid)
    assert shown["state"] == "paraf_kabid"  # initials start again on the new draft
    drafts = [a for a in shown["attachments"] if a["kind"] == "draft_reply"]
    assert len(drafts) == 1 and drafts[0]["id"] not in {a["id"] for a in first_letter}
    done = _sign_chain(rid)
    assert done["state"] == "selesai"
    assert verify_pdf(_signed_letter(rid), _roots(test_pki)).status == "valid"


def test_wrong_passphrase_changes_nothing(office):
    rid = submit()["id"]
    fire("sekretaris", rid, "tolak", note="Dikecualikan.", reason="pasal17j")
    before = as_sysadmin("statrequest_show", id=rid)
    with pytest.raises(__import__("ckantoolkit").ValidationError) as err:
        fire("kabid", rid, "paraf_kabid", passphrase="salah")
    assert "passphrase" in err.value.error_dict
    after = as_sysadmin("statrequest_show", id=rid)
    assert after["state"] == "paraf_kabid"
    assert after["version"] == before["version"]
    assert after["attachments"] == before["attachments"]
