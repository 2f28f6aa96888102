"""Attachments through the action API: who may add, open and withdraw files, and when."""
from __future__ import annotations

import ckantoolkit as tk
import pytest
from support import act, as_sysadmin, fire, pdf_bytes, submit, upload, walk

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_requester_adds_and_withdraws_a_file_while_fixing(office):
    rid = submit()["id"]
    with pytest.raises(tk.NotAuthorized):  # not while Diskominfo has it
        act("pemohon1", "statrequest_attachment_create", id=rid, kind="request_letter",
            upload=upload("surat2.pdf", pdf_bytes()))
    fire("sekretaris", rid, "minta_perbaikan", note="Surat belum bertanda tangan.")
    added = act("pemohon1", "statrequest_attachment_create", id=rid, kind="request_letter",
                upload=upload("surat2.pdf", pdf_bytes("ttd")))
    assert added["media_type"] == "application/pdf"
    with pytest.raises(tk.NotAuthorized):
        act("pemohon2", "statrequest_attachment_delete", id=added["id"])
    act("pemohon1", "statrequest_attachment_delete", id=added["id"])
    kinds = [a["name"] for a in act("pemohon1", "statrequest_show", id=rid)["attachments"]]
    assert "surat2.pdf" not in kinds
    # files handed in with the submission belong to the record
    original = as_sysadmin("statrequest_show", id=rid)["attachments"][0]
    with pytest.raises(tk.NotAuthorized):
        act("pemohon1", "statrequest_attachment_delete", id=original["id"])


def test_only_the_routed_opd_adds_results_and_only_while_asked(office):
    rid = walk(office, submit()["id"], "tugaskan_staf")
    data = upload("hasil.csv", b"a,b\n1,2\n")
    with pytest.raises(tk.NotAuthorized):
        act("admin-kesehatan", "statrequest_attachment_create", id=rid, kind="result", upload=data)
    fire("staf1", rid, "teruskan_ke_opd", opd=["dinas-kesehatan"])
    for outsider in ("admin-pendidikan", "pemohon1", "staf2"):
        with pytest.raises(tk.NotAuthorized):
            act(outsider, "statrequest_attachment_create", id=rid, kind="result",
                upload=upload("hasil.csv", b"a,b\n1,2\n"))
    added = act("admin-kesehatan", "statrequest_attachment_create", id=rid, kind="result",
                upload=upload("hasil.csv", b"a,b\n1,2\n"))
    assert added["media_type"] == "text/csv"
    with pytest.raises(tk.ValidationError):  # an executable is no result
        act("admin-kesehatan", "statrequest_attachment_create", id=rid, kind="result",
            upload=upload("hasil.csv", b"MZ\x90\x00" * 50))
    # an OPD may not add identity documents
    with pytest.raises(tk.NotAuthorized):
        act("admin-kesehatan", "statrequest_attachment_create", id=rid, kind="identity_document",
            upload=upload("ktp.pdf", pdf_bytes()))


def test_attachment_show_follows_the_access_table(office):
    r = submit()
    identity = next(a for a in r["attachments"] if a["kind"] == "identity_document")
    letter = next(a for a in r["attachments"] if a["kind"] == "request_letter")
    assert act("pemohon1", "statrequest_attachment_show", id=identity["id"])["sha256"]
    assert act("kabid", "statrequest_attachment_show", id=identity["id"])["sha256"]
    for user in ("pemohon2", None, "admin-kesehatan"):
        with pytest.raises(tk.NotAuthorized):
            act(user, "statrequest_attachment_show", id=identity["id"])
        with pytest.raises(tk.NotAuthorized):
            act(user, "statrequest_attachment_download", id=letter["id"])
    with pytest.raises(tk.ObjectNotFound):
        act("kabid", "statrequest_attachment_show", id="bukan-id")
