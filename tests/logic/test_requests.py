"""Submitting, showing and listing requests; bad input changes nothing."""
from __future__ import annotations

import os

import ckan.model as model
import ckantoolkit as tk
import pytest
from ckan.tests import factories
from sqlalchemy import func, select
from support import act, as_sysadmin, pdf_bytes, png_bytes, request_data, submit, upload

from ckanext.statrequest.model import Attachment, Event, Request

pytestmark = pytest.mark.usefixtures("with_plugins")
STORAGE = os.path.join(os.environ.get("CKAN_STORAGE_PATH") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), ".run",
    "test-storage"), "files")  # dev/ports.sh gives a second test set its own storage


def _footprint() -> tuple[int, int, int, int, int]:
    """Rows and stored files: what a rejected call must leave unchanged."""
    count = lambda table: model.Session.scalar(select(func.count()).select_from(table))  # noqa: E731
    stored = sum(len(files) for _, _, files in os.walk(STORAGE)) if os.path.isdir(STORAGE) else 0
    return (count(Request), count(Event), count(Attachment), count(model.File), stored)


def test_submission_gets_a_tracking_number_and_is_in_the_secretary_inbox(office):
    r = submit()
    assert r["tracking_number"].startswith("PDS-")
    assert r["state"] == "diajukan"
    assert r["identity_number"] == "6104012345678901"  # the requester sees their own NIK
    assert {a["kind"] for a in r["attachments"]} == {
        "identity_document", "request_letter", "data_form"}
    png = next(a for a in r["attachments"] if a["kind"] == "identity_document")
    assert png["media_type"] == "image/png"
    inbox = act("sekretaris", "statrequest_list", waiting_for_me=True)
    assert [x["id"] for x in inbox["results"]] == [r["id"]]
    assert act("kadis", "statrequest_list", waiting_for_me=True)["count"] == 0
    # personal data is masked in lists, even for officials
    assert inbox["results"][0]["identity_number"] == "6104********8901"


def test_links_to_datasets_and_organisations(office):
    dataset = factories.Dataset(owner_org=office.opd["dinas-kesehatan"]["id"])
    r = submit(dataset_ids=[dataset["name"]], organization_ids="dinas-kesehatan")
    assert [d["id"] for d in r["datasets"]] == [dataset["id"]]
    assert [(o["name"], o["routed"]) for o in r["organizations"]] == [("dinas-kesehatan", False)]


@pytest.mark.parametrize("field,value,message", [
    ("requester_name", "", "Missing value"),
    ("title", "x" * 201, "at most 200"),
    ("description", "<script>alert(1)</script>", "HTML or script"),
    ("purpose", "Lihat <img src=x onerror=alert(1)>", "HTML or script"),
    ("identity_number", "12345", "16 digits"),
    ("category", "alien", "Value must be one of"),
    ("email", "bukan-email", "not a valid format"),
    ("dataset_ids", ["tidak-ada"], "Dataset not found"),
    ("organization_ids", ["11111111-2222-3333-4444-555555555555"], "Organisation not found"),
    ("consent_personal_data", False, "agree"),
    ("title", ["a", "list"], "text"),
])
def test_bad_fields_are_refused_and_nothing_is_written(office, field, value, message):
    before = _footprint()
    with pytest.raises(tk.ValidationError) as err:
        submit(**{field: value})
    assert field in err.value.error_dict
    assert message in str(err.value.error_dict[field])
    assert _footprint() == before


@pytest.mark.parametrize("field,name,content,message", [
    ("identity_document", "ktp.png", b"MZ\x90\x00\x03" + b"\x00" * 200, "not accepted"),
    ("identity_document", "ktp.pdf", b"<html><script>alert(1)</script></html>", "not accepted"),
    ("request_letter", "surat.pdf", b"", "empty"),
    ("request_letter", "surat.pdf", pdf_bytes() + b"0" * (2 * 1024 * 1024), "larger than 2 MB"),
    ("data_form", "form.exe", b"MZ\x90\x00" * 100, "not accepted"),
])
def test_bad_files_are_refused_and_nothing_is_written(office, field, name, content, message):
    before = _footprint()
    with pytest.raises(tk.ValidationError) as err:
        submit(**{field: upload(name, content)})
    assert message in str(err.value.error_dict[field])
    assert _footprint() == before


def test_missing_documents_are_named(office):
    data = request_data()
    del data["identity_document"], data["request_letter"]
    with pytest.raises(tk.ValidationError) as err:
        act("pemohon1", "statrequest_create", **data)
    assert set(err.value.error_dict) >= {"identity_document", "request_letter"}


def test_path_tricks_in_file_names_are_neutralised(office):
    r = submit(identity_document=upload("../../../etc/passwd.png", png_bytes()))
    (doc,) = [a for a in r["attachments"] if a["kind"] == "identity_document"]
    assert "/" not in doc["name"] and ".." not in doc["name"]


def test_anonymous_cannot_submit(office):
    with pytest.raises(tk.NotAuthorized):
        act(None, "statrequest_create", **request_data())


def test_forged_or_malformed_ids_are_not_found(office):
    submit()
    for ref in ("PDS-2026-99999", "'; DROP TABLE statrequest_request; --", "x" * 500,
                "11111111-2222-3333-4444-555555555555"):
        with pytest.raises((tk.ObjectNotFound, tk.ValidationError)):
            act("sekretaris", "statrequest_show", id=ref)


def test_stale_version_and_unknown_transition(office):
    rid = submit()["id"]
    with pytest.raises(tk.ValidationError) as err:
        act("sekretaris", "statrequest_transition", id=rid, transition="terbang", version=1)
    assert "transition" in err.value.error_dict
    act("sekretaris", "statrequest_transition", id=rid, transition="teruskan_ke_kadis", version=1)
    with pytest.raises(tk.ValidationError) as err:
        act("sekretaris", "statrequest_transition", id=rid, transition="minta_perbaikan",
            version=1, note="x")
    assert "already handled" in str(err.value.error_dict)


def test_transition_inputs_are_required(office):
    rid = submit()["id"]
    with pytest.raises(tk.ValidationError) as err:
        act("sekretaris", "statrequest_transition", id=rid, transition="minta_perbaikan",
            version=1)
    assert "note" in err.value.error_dict
    act("sekretaris", "statrequest_transition", id=rid, transition="teruskan_ke_kadis", version=1)
    act("kadis", "statrequest_transition", id=rid, transition="disposisi_ke_kabid", version=2,
        instruction="Tindak lanjuti.")
    act("kabid", "statrequest_transition", id=rid, transition="disposisi_ke_kasi", version=3,
        instruction="Tindak lanjuti.")
    with pytest.raises(tk.ValidationError) as err:  # the assignee must be staff
        act("kasi", "statrequest_transition", id=rid, transition="tugaskan_staf", version=4,
            assignee="pemohon2", instruction="Kerjakan.")
    assert "assignee" in err.value.error_dict
    assert as_sysadmin("statrequest_show", id=rid)["version"] == 4


class TestVisibility:
    """The access table, kind of user by kind of user, for show, events and files."""

    def _routed(self, office) -> str:
        rid = submit()["id"]
        for user, t, extra in [
            ("sekretaris", "teruskan_ke_kadis", {}),
            ("kadis", "disposisi_ke_kabid", {"instruction": "Rahasia internal: prioritas."}),
            ("kabid", "disposisi_ke_kasi", {"instruction": "Segera."}),
            ("kasi", "tugaskan_staf", {"assignee": "staf1", "instruction": "Kerjakan."}),
            ("staf1", "teruskan_ke_opd", {"opd": ["dinas-kesehatan"], "note": "Mohon datanya."}),
        ]:
            version = as_sysadmin("statrequest_show", id=rid)["version"]
            act(user, "statrequest_transition", id=rid, transition=t, version=version, **extra)
        return rid

    def test_requester(self, office):
        rid = self._routed(office)
        shown = act("pemohon1", "statrequest_show", id=rid)
        assert shown["identity_number"] == "6104012345678901"
        assert "identity_document" in {a["kind"] for a in shown["attachments"]}
        notes = [e["note"] for e in act("pemohon1", "statrequest_event_list", id=rid)]
        assert "Rahasia internal: prioritas." not in notes

    @pytest.mark.parametrize("user", ["pemohon2", None, "admin-pendidikan"])
    def test_outsiders_see_nothing(self, office, user):
        rid = self._routed(office)
        for action in ("statrequest_show", "statrequest_event_list",
                       "statrequest_available_transitions"):
            with pytest.raises(tk.NotAuthorized):
                act(user, action, id=rid)
        attachment = as_sysadmin("statrequest_show", id=rid)["attachments"][0]
        with pytest.raises(tk.NotAuthorized):
            act(user, "statrequest_attachment_show", id=attachment["id"])
        if user:
            assert act(user, "statrequest_list")["count"] == 0

    def test_routed_opd_sees_request_but_no_personal_data(self, office):
        rid = self._routed(office)
        shown = act("admin-kesehatan", "statrequest_show", id=rid)
        for field in ("identity_number", "phone", "address", "email"):
            assert field not in shown
        kinds = {a["kind"] for a in shown["attachments"]}
        assert "identity_document" not in kinds
        assert {"request_letter", "data_form"} <= kinds
        identity = next(a for a in as_sysadmin("statrequest_show", id=rid)["attachments"]
                        if a["kind"] == "identity_document")
        with pytest.raises(tk.NotAuthorized):
            act("admin-kesehatan", "statrequest_attachment_download", id=identity["id"])
        notes = [e["note"] for e in act("admin-kesehatan", "statrequest_event_list", id=rid)]
        assert "Mohon datanya." in notes  # its own step
        assert "Rahasia internal: prioritas." not in notes  # Diskominfo's internal disposition
        assert act("admin-kesehatan", "statrequest_list", waiting_for_me=True)["count"] == 1

    def test_position_holder_sees_everything_and_identity_views_are_recorded(self, office):
        from ckanext.statrequest.model import IdentityAccess

        rid = self._routed(office)
        shown = act("kasi", "statrequest_show", id=rid)
        assert shown["identity_number"] == "6104012345678901"
        identity = next(a for a in shown["attachments"] if a["kind"] == "identity_document")
        got = act("kasi", "statrequest_attachment_download", id=identity["id"])
        assert b"".join(got["stream"]) == png_bytes()
        notes = [e["note"] for e in act("kasi", "statrequest_event_list", id=rid)]
        assert "Rahasia internal: prioritas." in notes
        views = model.Session.scalars(select(IdentityAccess).order_by(IdentityAccess.id)).all()
        # the full NIK on the request page, then the identity document
        assert [(v.kind, v.user_id) for v in views] == [("nik", model.User.get("kasi").id),
                                                       ("document", model.User.get("kasi").id)]


def test_list_filters_sort_and_paging(office):
    ids = [submit(title=f"Data padi kecamatan {i}", category=c)["id"]
           for i, c in enumerate(["masyarakat_umum", "dunia_usaha", "dunia_usaha"])]
    assert act("sekretaris", "statrequest_list", category="dunia_usaha")["count"] == 2
    assert act("sekretaris", "statrequest_list", q="padi")["count"] == 3
    assert act("sekretaris", "statrequest_list", q="kecamatan 1")["count"] == 1
    number = as_sysadmin("statrequest_show", id=ids[1])["tracking_number"]
    found = act("sekretaris", "statrequest_list", q=number.lower())
    assert [r["id"] for r in found["results"]] == [ids[1]]
    page = act("sekretaris", "statrequest_list", limit=2, offset=2, sort="oldest")
    assert page["count"] == 3 and [r["id"] for r in page["results"]] == [ids[2]]
    assert act("pemohon2", "statrequest_list")["count"] == 0
    assert act("pemohon1", "statrequest_list")["count"] == 3
    with pytest.raises(tk.ValidationError):
        act("sekretaris", "statrequest_list", sort="drop table")


def test_a_search_among_open_requests_leaves_out_closed_ones_and_finds_reopened(office):
    """Searching open requests reads the index of open requests (`closed_at IS NULL`, #16):
    a closed request is left out, and one set back to an open state is found again."""
    open_one = submit(title="Data padi sawah")["id"]
    closed = submit(title="Data padi ladang")["id"]
    act("pemohon1", "statrequest_transition", id=closed, transition="batalkan", version=1)
    assert as_sysadmin("statrequest_show", id=closed)["closed_at"]
    assert act("sekretaris", "statrequest_list", q="padi")["count"] == 2

    def open_matches() -> list[str]:
        return [r["id"] for r in act("sekretaris", "statrequest_list", q="padi",
                                     sla="on_time")["results"]]

    assert open_matches() == [open_one]
    as_sysadmin("statrequest_override", id=closed, state="diajukan", version=2,
                note="Dibatalkan tanpa sengaja; dibuka lagi.")
    assert as_sysadmin("statrequest_show", id=closed)["closed_at"] is None
    assert sorted(open_matches()) == sorted([open_one, closed])


def test_list_count_is_exact_up_to_the_cap_then_a_lower_bound(office, monkeypatch):
    """A broad list counts at most COUNT_CAP matches past its offset (#16, a million rows)."""
    from ckanext.statrequest.lib import listing
    made = [submit(title=f"Data jagung {i}") for i in range(4)]
    ids = [r["id"] for r in made]
    full = act("sekretaris", "statrequest_list", waiting_for_me=True)
    assert full["count"] == 4 and full["count_is_lower_bound"] is False
    # the inbox's per-state merge keeps the urgency order of the one-query sort
    assert [r["id"] for r in full["results"]] == [r["id"] for r in act(
        "sekretaris", "statrequest_list", state=[made[0]["state"]], sort="urgency")["results"]]
    monkeypatch.setattr(listing, "COUNT_CAP", 2)
    capped = act("sekretaris", "statrequest_list", waiting_for_me=True, limit=1)
    assert capped["count"] == 2 and capped["count_is_lower_bound"] is True
    assert len(capped["results"]) == 1
    # deeper pages count past their offset, so the pages keep going
    deep = act("sekretaris", "statrequest_list", limit=1, offset=1, sort="oldest")
    assert deep["count"] == 3 and deep["count_is_lower_bound"] is True
    assert [r["id"] for r in deep["results"]] == [ids[1]]
    exact = act("sekretaris", "statrequest_list", q="jagung 3")
    assert exact["count"] == 1 and exact["count_is_lower_bound"] is False
