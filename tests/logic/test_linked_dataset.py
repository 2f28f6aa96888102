"""An OPD answers with a dataset already on the portal (`or_dataset`): its uploaded resources
become result files (SHA-256 of their bytes), its links are recorded as `tautan`; the reply
letter names the dataset (title, link, resources) and the delivery gives the requester the
files like uploaded data."""
from __future__ import annotations

import hashlib
import io

import ckan.model as model
import ckantoolkit as tk
import pytest
from support import PASSPHRASE, act, as_sysadmin, fire, pdf_text, submit, walk
from werkzeug.datastructures import FileStorage

from ckanext.statrequest.lib import attachments, delivery, letters
from ckanext.statrequest.model import Attachment, Request

pytestmark = pytest.mark.usefixtures("with_plugins", "test_pki")

CSV = b"kecamatan,puskesmas\nDelta Pawan,3\nMatan Hilir Utara,2\n"


@pytest.fixture
def dataset(office) -> dict:
    from ckan.tests import factories

    pkg = factories.Dataset(name="puskesmas-2025", title="Jumlah Puskesmas 2025",
                            owner_org=office.opd["dinas-kesehatan"]["id"])
    as_sysadmin("resource_create", package_id=pkg["id"], name="Puskesmas per kecamatan",
                upload=FileStorage(io.BytesIO(CSV), "puskesmas-2025.csv", content_type="text/csv"))
    as_sysadmin("resource_create", package_id=pkg["id"], name="Peta puskesmas",
                url="https://peta.example.test/puskesmas")
    return as_sysadmin("package_show", id=pkg["id"])


def test_answer_with_a_dataset_letter_names_it_and_delivery_carries_its_files(office, dataset):
    dinkes = office.opd["dinas-kesehatan"]
    rid = walk(office, submit()["id"], "teruskan_ke_opd")
    fire(dinkes["admin"], rid, "unggah_hasil", dataset=dataset["id"])
    model.Session.remove()
    (row,) = attachments.results(rid)
    assert row.sha256 == hashlib.sha256(CSV).hexdigest() and row.organization_id == dinkes["id"]
    events = act("staf1", "statrequest_event_list", id=rid)
    linked = events[-1]["data"]["linked_dataset"]
    assert linked["title"] == "Jumlah Puskesmas 2025" and linked["url"].endswith("/dataset/puskesmas-2025")
    assert [(r["kind"], r.get("sha256") or r.get("url")) for r in linked["resources"]] == [
        ("file", hashlib.sha256(CSV).hexdigest()), ("tautan", "https://peta.example.test/puskesmas")]

    # the reply letter names the dataset, its link and its resources
    request = model.Session.get(Request, rid)
    data = letters.letter_data(request, attachments.results(rid))
    assert [d["title"] for d in data.datasets] == ["Jumlah Puskesmas 2025"]
    for user, step, extra in (
            ("staf1", "hasil_sesuai", {"outcome": "dipenuhi", "note": "Sesuai."}),
            ("kasi", "teruskan_ke_kabid", {}), ("kabid", "paraf_kabid", {"passphrase": PASSPHRASE}),
            ("sekretaris", "paraf_sekretaris", {"passphrase": PASSPHRASE}),
            ("kadis", "tandatangani", {"passphrase": PASSPHRASE})):
        fire(user, rid, step, **extra)
    model.Session.remove()
    request = model.Session.get(Request, rid)
    letter = model.Session.get(Attachment, request.letter_attachment_id)
    text = " ".join(pdf_text(b"".join(attachments.read(letter.file_id))).split())
    assert "Jumlah Puskesmas 2025" in text and "tautan" in text
    assert hashlib.sha256(CSV).hexdigest()[:16] in text.replace(" ", "")

    # delivery: the requester receives the dataset's file like uploaded data
    package_id = delivery.deliver(rid)
    model.Session.remove()
    pkg = act("pemohon1", "package_show", id=package_id)
    assert hashlib.sha256(CSV).hexdigest() in {r["hash"] for r in pkg["resources"]}


def test_a_dataset_the_opd_may_not_read_is_refused(office):
    from ckan.tests import factories

    other = factories.Dataset(name="rahasia", private=True,
                              owner_org=office.opd["dinas-pertanian"]["id"])
    rid = walk(office, submit()["id"], "teruskan_ke_opd")
    with pytest.raises(tk.ValidationError):
        fire(office.opd["dinas-kesehatan"]["admin"], rid, "unggah_hasil", dataset=other["id"])
    assert attachments.results(rid) == []
