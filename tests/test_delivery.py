"""Delivery of a finished request as a private dataset, and who may see it (DESIGN.md §5, §6)."""
from __future__ import annotations

import hashlib
import time
from typing import Any

import ckan.model as model
import ckantoolkit as tk
import pytest
from support import PASSPHRASE, act, as_sysadmin, fire, submit, upload

from ckanext.statrequest import delivery
from ckanext.statrequest.model import Attachment, Request

pytestmark = pytest.mark.usefixtures("with_plugins", "test_pki")

CSV = b"puskesmas,dokter,bidan\nKetapang,4,12\n"
XLSX_NAME = "nakes-2025.csv"

# DESIGN.md §6, row "signed reply and delivered data"
READERS = ["pemohon1", "admin-kesehatan", "sekretaris", "kadis", "kabid", "kasi", "staf1", "staf2"]
OUTSIDERS = ["pemohon2", "other", None, "admin-pendidikan"]
STAFF = ["sekretaris", "kadis", "kabid", "kasi", "staf1", "staf2"]  # Diskominfo position holders


def finished_request(office: Any, outcome: str = "dipenuhi") -> str:
    """A request walked through the whole default workflow to `selesai` (as in
    test_workflow_walk), with one result file from Dinas Kesehatan."""
    dinkes = office.opd["dinas-kesehatan"]
    rid = submit()["id"]
    fire("sekretaris", rid, "teruskan_ke_kadis")
    fire("kadis", rid, "disposisi_ke_kabid", instruction="Mohon ditindaklanjuti.")
    fire("kabid", rid, "disposisi_ke_kasi", instruction="Koordinasikan dengan Dinkes.")
    fire("kasi", rid, "tugaskan_staf", assignee="staf1", instruction="Siapkan datanya.")
    fire("staf1", rid, "teruskan_ke_opd", opd=[dinkes["id"]])
    fire(dinkes["admin"], rid, "unggah_hasil", result=upload(XLSX_NAME, CSV))
    fire("staf1", rid, "hasil_sesuai", outcome=outcome, note="Data sesuai permintaan.")
    fire("kasi", rid, "teruskan_ke_kabid")
    fire("kabid", rid, "paraf_kabid", passphrase=PASSPHRASE)
    fire("sekretaris", rid, "paraf_sekretaris", passphrase=PASSPHRASE)
    assert fire("kadis", rid, "tandatangani", passphrase=PASSPHRASE)["state"] == "selesai"
    return rid


@pytest.fixture
def delivered(office) -> dict[str, Any]:
    rid = finished_request(office)
    package_id = delivery.deliver(rid)
    model.Session.remove()
    pkg = as_sysadmin("package_show", id=package_id)
    return {"request_id": rid, "package": pkg, "office": office}


def test_the_dataset_holds_the_signed_reply_and_the_data(delivered):
    pkg = delivered["package"]
    rid = delivered["request_id"]
    request = model.Session.get(Request, rid)
    assert request.delivered_package_id == pkg["id"]
    assert pkg["private"] is True
    assert pkg["organization"]["name"] == "diskominfo"
    assert pkg["name"] == f"permintaan-data-{request.tracking_number.lower()}"
    rows = {a.sha256: a for a in model.Session.query(Attachment).filter_by(request_id=rid)}
    names = [(r["name"], r["url_type"], r["hash"]) for r in pkg["resources"]]
    letter, data = pkg["resources"]
    assert rows[letter["hash"]].kind == "signed_reply"
    assert rows[data["hash"]].kind == "result"
    assert letter["format"].upper() == "PDF" and data["format"].upper() == "CSV", names
    assert all(r["url_type"] == "upload" for r in pkg["resources"])
    assert "/download/" in data["url"]
    assert "plugin_data" not in pkg  # the request link is never shown


def _allowed(user: str | None, action: str, **data: Any) -> bool:
    try:
        act(user, action, **data)
        return True
    except tk.NotAuthorized:
        return False


def _matrix(check) -> tuple[dict, dict]:
    """`check(user)` for every column of §6, and what §6 expects (True for readers)."""
    users = READERS + OUTSIDERS
    return {u: check(u) for u in users}, {u: u in READERS for u in users}


def test_who_may_read_the_dataset_and_its_resources(delivered):
    pkg = delivered["package"]

    def check(user: str | None) -> bool:
        results = {
            _allowed(user, "package_show", id=pkg["id"]),
            _allowed(user, "package_show", id=pkg["name"]),
            _allowed(user, "package_activity_list", id=pkg["id"]),
        }
        for res in pkg["resources"]:
            results.add(_allowed(user, "resource_show", id=res["id"]))
            results.add(_allowed(user, "resource_view_list", id=res["id"]))
        assert len(results) == 1, f"{user}: mixed answers"
        return results.pop()

    got, expected = _matrix(check)
    assert got == expected


def _found(user: str | None, pkg_id: str, **params: Any) -> int:
    return act(user, "package_search", q=f"id:{pkg_id}", **params)["count"]


def test_search_lists_it_only_for_readers_asking_for_private_datasets(delivered):
    pkg = delivered["package"]
    for user in READERS + OUTSIDERS:
        assert _found(user, pkg["id"]) == 0, user  # never in public search, not for readers
        assert pkg["name"] not in act(user, "package_list"), user
    got, expected = _matrix(lambda u: _found(u, pkg["id"], include_private=True) == 1)
    assert got == expected
    # the Diskominfo organisation page lists it to its own members only (CKAN's rule)
    got, _expected = _matrix(lambda u: pkg["id"] in {
        d["id"] for d in act(u, "organization_show", id="diskominfo",
                             include_datasets=True)["packages"]})
    assert got == {u: u in STAFF for u in got}


def _activity_objects(activities: list[dict[str, Any]]) -> set[str]:
    return {a["object_id"] for a in activities}


def test_activity_streams_show_it_only_to_readers(delivered):
    pkg_id = delivered["package"]["id"]
    site_user = as_sysadmin("get_site_user")["name"]
    for user in OUTSIDERS:  # following it must not open a window on it either
        if user is None:
            continue
        try:
            act(user, "follow_dataset", id=pkg_id)
        except (tk.NotAuthorized, tk.ValidationError, tk.ObjectNotFound):
            pass
        assert pkg_id not in _activity_objects(act(user, "dashboard_activity_list")), user
    for user in READERS + OUTSIDERS:  # these streams list public datasets only
        assert pkg_id not in _activity_objects(
            act(user, "recently_changed_packages_activity_list")), user
        assert pkg_id not in _activity_objects(
            act(user, "organization_activity_list", id="diskominfo")), user
    got, expected = _matrix(lambda u: pkg_id in _activity_objects(
        act(u, "user_activity_list", id=site_user)))
    assert got == expected
