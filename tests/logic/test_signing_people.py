"""Signatures by people, not positions: Plt/Plh sign with their own certificates and are named
as such on the letter; the letter itself (DRAF, paraf boxes, date, number, issuer, /AF)."""
from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

import ckan.model as model
import ckantoolkit as tk
import pytest
from ckan.tests import factories
from freezegun import freeze_time
from pyhanko.pdf_utils.reader import PdfFileReader
from support import PASSPHRASE, TEST_PKI_DIR, act, as_sysadmin, fire, issue_credentials, submit

from ckanext.statrequest.core.workflow import DEFAULT_PATH
from ckanext.statrequest.documents.letter import BSRE_STATEMENT, issuer_statement
from ckanext.statrequest.lib import attachments
from ckanext.statrequest.model import Attachment, Request

pytestmark = pytest.mark.usefixtures("with_plugins", "test_pki")

TITLE = "Kepala Dinas Komunikasi dan Informatika"  # letter.signer_title


def _text(pdf: bytes) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext missing (apt-get install poppler-utils)")
    # reading order (no -layout): each field's appearance comes out as one block
    out = subprocess.run([exe, "-enc", "UTF-8", "-", "-"], input=pdf,
                         capture_output=True, check=True, timeout=30).stdout.decode("utf-8")
    return " ".join(out.split())


def _letter(rid: str) -> bytes:
    model.Session.expire_all()
    request = model.Session.get(Request, rid)
    row = model.Session.get(Attachment, request.letter_attachment_id)
    return b"".join(attachments.read(row.file_id))


def _signers(pdf: bytes) -> dict[str, dict]:
    """Field name -> signer certificate subject (pyHanko)."""
    reader = PdfFileReader(io.BytesIO(pdf))
    return {s.field_name: s.signer_cert.subject.native for s in reader.embedded_signatures}


def _acting_official(user: str, kind: str, fullname: str, nip: str, rank: str) -> None:
    """A Diskominfo member appointed Plt/Plh of the Head of Agency, with their own key."""
    factories.User(name=user, fullname=fullname)
    as_sysadmin("organization_member_create", id="diskominfo", username=user, role="editor")
    today = dt.date.today()
    as_sysadmin("statrequest_position_assign", position="kepala_dinas", user=user, kind=kind,
                stands_in_for="kadis", nip=nip, rank=rank, valid_from=today.isoformat(),
                valid_to=(today + dt.timedelta(days=7)).isoformat())


def _refusal_ready_to_sign() -> str:
    rid = submit()["id"]
    fire("sekretaris", rid, "tolak", note="Data yang diminta bersifat dikecualikan.", reason="pasal17j")
    fire("kabid", rid, "paraf_kabid", passphrase=PASSPHRASE)
    fire("sekretaris", rid, "paraf_sekretaris", passphrase=PASSPHRASE)
    return rid


@pytest.mark.parametrize("kind,prefix", [("plt", "Plt."), ("plh", "Plh.")])
def test_acting_head_signs_with_own_certificate_and_is_named(office, kind, prefix):
    user, fullname = f"{kind}-kadis", f"Ir. Bambang {kind.upper()} Wijaya, M.Si."
    nip, rank = "197011231996031002", "Pembina Tingkat I (IV/b)"
    _acting_official(user, kind, fullname, nip, rank)
    pki = issue_credentials(user, identities={user: (fullname, nip, "Kepala Dinas")})
    rid = _refusal_ready_to_sign()

    done = fire(user, rid, "tandatangani", passphrase=PASSPHRASE)
    assert done["state"] == "selesai"
    pdf = _letter(rid)
    signers = _signers(pdf)
    # the acting official's own certificate, not the definitive holder's
    assert signers["TTE"]["common_name"] == fullname
    assert signers["TTE"]["common_name"] != pki["signers"]["kadis"]["name"]
    assert signers["Paraf1"]["common_name"] == pki["signers"]["kabid"]["name"]
    text = _text(pdf)
    assert f"{prefix} {TITLE}" in text
    for shown in (fullname, rank, f"NIP. {nip}"):
        assert shown in text, shown
    assert "Kadis" not in text  # the definitive holder's name appears nowhere
    (event,) = [e for e in act("kadis", "statrequest_event_list", id=rid)
                if e["transition"] == "tandatangani"]
    kadis = model.User.get("kadis")
    assert event["acting"] is True
    assert event["data"]["acting_kind"] == kind
    assert event["data"]["on_behalf_of"] == {"id": kadis.id, "name": "Kadis"}
    assert fullname in event["data"]["signer"]["certificate_subject"]


def test_definitive_holders_key_is_not_anybody_elses(office, test_pki):
    _acting_official("plt-kadis", "plt", "Ir. Bambang Wijaya, M.Si.", "197011231996031002",
                     "Pembina Tingkat I (IV/b)")
    # the administrator cannot give kadis's key (or certificate) to someone else
    with pytest.raises(tk.ValidationError) as err:
        as_sysadmin("statrequest_credential_set", user="plt-kadis", backend="pkcs12",
                    reference="kadis.p12")
    assert "another person" in str(err.value.error_dict["reference"])
    kadis_cert = Path(TEST_PKI_DIR, "kadis.cert.pem").read_text()
    issue_credentials("plt-kadis")  # a key of their own ...
    with pytest.raises(tk.ValidationError):  # ... but not registered as kadis's certificate
        as_sysadmin("statrequest_credential_set", user="plt-kadis", backend="pkcs12",
                    reference="plt-kadis.p12", certificate=kadis_cert)

    # a key file that does not hold the registered certificate is refused at signing
    as_sysadmin("statrequest_credential_set", user="plt-kadis", backend="pkcs12",
                reference="plt-kadis.p12",
                certificate=Path(TEST_PKI_DIR, "kepala_dinas.cert.pem").read_text())
    rid = _refusal_ready_to_sign()
    before = as_sysadmin("statrequest_show", id=rid)
    with pytest.raises(tk.ValidationError) as err:
        fire("plt-kadis", rid, "tandatangani", passphrase=PASSPHRASE)
    assert "registered for you" in str(err.value.error_dict["passphrase"])
    after = as_sysadmin("statrequest_show", id=rid)
    assert (after["state"], after["version"], after["attachments"]) == (
        before["state"], before["version"], before["attachments"])
    # kadis still signs with kadis's own key
    assert fire("kadis", rid, "tandatangani", passphrase=PASSPHRASE)["state"] == "selesai"
    assert _signers(_letter(rid))["TTE"]["common_name"] == test_pki["signers"]["kadis"]["name"]


def test_no_credential_is_a_clear_refusal_and_writes_nothing(office):
    _acting_official("plh-kadis", "plh", "Dra. Sri Handayani", "197512122000032001",
                     "Pembina (IV/a)")
    rid = _refusal_ready_to_sign()
    before = as_sysadmin("statrequest_show", id=rid)
    events = len(act("kadis", "statrequest_event_list", id=rid))
    with pytest.raises(tk.ValidationError) as err:  # knowing kadis's passphrase is no help
        fire("plh-kadis", rid, "tandatangani", passphrase=PASSPHRASE)
    assert "no signing credential" in str(err.value.error_dict["passphrase"])
    after = as_sysadmin("statrequest_show", id=rid)
    assert (after["state"], after["version"], after["attachments"]) == (
        before["state"], before["version"], before["attachments"])
    assert len(act("kadis", "statrequest_event_list", id=rid)) == events
    # a revoked credential is no credential
    (cred,) = act(office.sysadmin, "statrequest_credential_list", user="kadis")
    act(office.sysadmin, "statrequest_credential_revoke", id=cred["id"])
    with pytest.raises(tk.ValidationError):
        fire("kadis", rid, "tandatangani", passphrase=PASSPHRASE)


def test_credentials_are_for_the_administrator_only(office):
    for user in ("sekretaris", "kabid", "pemohon1"):
        with pytest.raises(tk.NotAuthorized):
            act(user, "statrequest_credential_set", user=user, backend="pkcs12",
                reference=f"{user}.p12")
        with pytest.raises(tk.NotAuthorized):
            act(user, "statrequest_credential_list")
    listed = act(office.sysadmin, "statrequest_credential_list")
    assert {c["user_name"] for c in listed} == {"kabid", "sekretaris", "kadis"}
    assert all(len(c["cert_fingerprint"]) == 64 and c["cert_subject"] for c in listed)
    for bad, field in (({"backend": "pkcs12", "reference": "../../etc/passwd"}, "reference"),
                       ({"backend": "pkcs12", "reference": "tidak-ada.p12"}, "reference"),
                       ({"backend": "remote", "reference": "12345"}, "reference"),
                       ({"backend": "pkcs12", "reference": "kasi.p12",
                         "certificate": "bukan sertifikat"}, "reference"),
                       ({"backend": "hsm", "reference": "x"}, "backend")):
        with pytest.raises(tk.ValidationError) as err:
            act(office.sysadmin, "statrequest_credential_set", user="kasi", **bad)
        assert err.value.error_dict.keys() & {field, "certificate"}, bad
    remote = act(office.sysadmin, "statrequest_credential_set", user="kasi", backend="remote",
                 reference="6104012345678901")
    assert remote["reference"].endswith("8901") and "610401" not in remote["reference"]


def test_plt_and_plh_are_distinct_kinds(office):
    factories.User(name="wakil")
    as_sysadmin("organization_member_create", id="diskominfo", username="wakil", role="editor")
    with pytest.raises(tk.ValidationError) as err:  # a Plh is always for a limited time
        act(office.sysadmin, "statrequest_position_assign", position="sekretaris", user="wakil",
            kind="plh")
    assert "valid_to" in err.value.error_dict
    with pytest.raises(tk.ValidationError):
        act(office.sysadmin, "statrequest_position_assign", position="sekretaris", user="wakil",
            kind="definitif", stands_in_for="sekretaris")
    legacy = act(office.sysadmin, "statrequest_position_assign", position="sekretaris",
                 user="wakil", acting=True)
    assert (legacy["kind"], legacy["acting"]) == ("plt", True)
    plh = act(office.sysadmin, "statrequest_position_assign", position="kepala_bidang",
              user="wakil", kind="plh", valid_to="2099-01-01", stands_in_for="kabid",
              rank="Penata (III/c)")
    assert (plh["kind"], plh["stands_in_for_display"], plh["rank"]) == (
        "plh", "Kabid", "Penata (III/c)")


def test_letter_fixes_through_the_workflow(office, test_pki):
    with freeze_time("2026-12-11 03:00:00", real_asyncio=True):  # Friday: the request
        rid = submit()["id"]
    with freeze_time("2026-12-14 03:00:00", real_asyncio=True):  # Monday: the draft
        fire("sekretaris", rid, "tolak", note="Data yang diminta bersifat dikecualikan.", reason="pasal17j")
        draft = _letter(rid)
    request = model.Session.get(Request, rid)
    assert request.letter_number.startswith("500.12.11.3/")  # the classification code
    assert request.letter_number.endswith("/DISKOMINFO/2026")
    text = _text(draft)
    assert "DRAF" in text and "Belum ditandatangani" in text
    assert "Ditandatangani secara elektronik" not in text
    assert "(BSrE)" not in text and "telah ditandatangani" not in text
    assert "Tembusan" not in text  # no copies configured: no empty list
    assert "Jl. Jendral Urip Sumoharjo No. 06 Ketapang 78813" in text
    assert "Kabid" not in text  # nobody has initialled yet
    reader = PdfFileReader(io.BytesIO(draft))
    assert len(reader.root["/AF"]) == 1  # the attached record, once

    with freeze_time("2026-12-15 02:30:00", real_asyncio=True):
        fire("kabid", rid, "paraf_kabid", passphrase=PASSPHRASE)
    initialled = _text(_letter(rid))
    assert "Kabid 15-12-2026 09.30 WIB" in initialled  # who initialled, and when
    assert "DRAF" in initialled  # still a draft until the Head signs
    with freeze_time("2026-12-16 04:00:00", real_asyncio=True):
        fire("sekretaris", rid, "paraf_sekretaris", passphrase=PASSPHRASE)
        fire("kadis", rid, "tandatangani", passphrase=PASSPHRASE)
    final = _letter(rid)
    text = _text(final)
    assert "Ketapang, 16 Desember 2026" in text  # the day of the final signature
    assert "14 Desember 2026" not in text  # not the day it was drafted
    assert "Sekretaris 16-12-2026 11.00 WIB" in text and "Kabid 15-12-2026" in text
    assert "DRAF" not in text and "Ditandatangani secara elektronik" in text
    assert f"{TITLE}, " in text and "Plt." not in text and "Plh." not in text
    # the certificate was issued by the test CA, and the letter says so (not BSrE)
    assert "diterbitkan oleh CA Uji Coba Sertifikat Elektronik" in text
    assert "(BSrE)" not in text
    assert len(PdfFileReader(io.BytesIO(final)).root["/AF"]) == 1


@pytest.mark.ckan_config("ckanext.statrequest.letter.classification_code", "000.9.2")
@pytest.mark.ckan_config("ckanext.statrequest.letter.tembusan", "Bupati Ketapang| |")
def test_classification_code_and_copies_from_config(office):
    rid = submit()["id"]
    fire("sekretaris", rid, "tolak", note="Dikecualikan.", reason="pasal17j")
    assert model.Session.get(Request, rid).letter_number.startswith("000.9.2/")
    text = _text(_letter(rid))
    assert "Tembusan: 1. Bupati Ketapang" in text and "2." not in text.split("Tembusan:")[1][:40]


def test_signing_on_behalf_of_another_position(office, tmp_path, ckan_config, monkeypatch):
    """A workflow where the Secretary signs "a.n." the Head of Agency."""
    source = DEFAULT_PATH.read_text()
    old = ("  - name: tandatangani\n    from: ttd_kadis\n    to: selesai\n"
           "    actor: kepala_dinas\n")
    assert old in source
    changed = source.replace(old, old.replace("actor: kepala_dinas",
                                              "actor: sekretaris\n    on_behalf_of: kepala_dinas"))
    changed = changed.replace("    holder: kepala_dinas\n    sla: running\n  selesai:",
                              "    holder: sekretaris\n    sla: running\n  selesai:")
    path = tmp_path / "alur-an.yaml"
    path.write_text(changed)
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.workflow_file", str(path))
    rid = _refusal_ready_to_sign()
    fire("sekretaris", rid, "tandatangani", passphrase=PASSPHRASE)
    text = _text(_letter(rid))
    assert f"a.n. {TITLE} Sekretaris Dinas," in text
    (event,) = [e for e in act("kadis", "statrequest_event_list", id=rid)
                if e["transition"] == "tandatangani"]
    assert event["data"]["atas_nama"]["position"] == "kepala_dinas"
    assert event["data"]["atas_nama"]["name"] == "Kadis"


def test_issuer_statement_names_bsre_only_for_bsre():
    bsre = {"country_name": "ID", "organization_name": "Badan Siber dan Sandi Negara",
            "common_name": "Balai Sertifikasi Elektronik"}
    assert issuer_statement(bsre) == BSRE_STATEMENT
    other = issuer_statement({"organization_name": "PT Privy Identitas Digital",
                              "common_name": "PrivyID CA"})
    assert "BSrE" not in other and "PrivyID CA, PT Privy Identitas Digital" in other


def test_admin_page_assigns_plh_and_registers_credentials(make_app, office):
    app = make_app()
    app.set_session_user("kadis")  # an admin of the Diskominfo organisation
    factories.User(name="wakil", fullname="Wakil Sementara")
    as_sysadmin("organization_member_create", id="diskominfo", username="wakil", role="editor")
    res = app.post("/permintaan-data/admin/jabatan", data={
        "position": "kepala_dinas", "user": "wakil", "kind": "plh", "stands_in_for": "kadis",
        "valid_from": "2026-12-01", "valid_to": "2099-12-31", "nip": "197512122000032001",
        "rank": "Pembina (IV/a)"})
    assert res.status_code in (200, 302)
    (row,) = [p for p in act("kadis", "statrequest_position_list", user="wakil")]
    assert (row["kind"], row["stands_in_for_display"], row["rank"]) == ("plh", "Kadis",
                                                                         "Pembina (IV/a)")
    res = app.post("/permintaan-data/admin/kunci", data={
        "user": "wakil", "backend": "pkcs12", "reference": "../kadis.p12"})
    assert 'id="reference-error"' in res.body
    page = app.get("/permintaan-data/admin/").body
    assert "Signing credentials" in page or "Kunci tanda tangan" in page or "kadis.p12" in page
    assert "kadis.p12" in page and "Wakil Sementara" in page
