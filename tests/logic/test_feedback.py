"""The satisfaction survey (SKM) and complaints: rules, access for every kind of user, bad
input that changes nothing, and the pages in Indonesian and English."""
from __future__ import annotations

import re
import uuid

import ckan.model as model
import ckantoolkit as tk
import pytest
from sqlalchemy import func, select
from support import act, as_sysadmin, submit

from ckanext.statrequest.model.feedback import Complaint, Survey

pytestmark = pytest.mark.usefixtures("with_plugins")

SCORES = {f"u{i}": s for i, s in enumerate([4, 3, 3, 4, 3, 4, 4, 3, 3], 1)}


def _finished(user: str = "pemohon1") -> dict:
    """A request of `user` that has reached `selesai` (repaired there, with its event)."""
    rid = submit(user)["id"]
    as_sysadmin("statrequest_override", id=rid, state="selesai", version=1,
                note="Selesai untuk pengujian survei.")
    return as_sysadmin("statrequest_show", id=rid)


def _count(cls: type) -> int:
    model.Session.remove()
    return model.Session.scalar(select(func.count()).select_from(cls))


def _who(office, user: str | None) -> str | None:
    return office.sysadmin if user == "sysadmin" else user


# --- survey -------------------------------------------------------------------------------

def test_requester_fills_the_survey_once(office):
    req = _finished()
    done = act("pemohon1", "statrequest_survey_submit", id=req["tracking_number"],
               comment="Terima kasih, sangat membantu.", **SCORES)
    assert done["submitted"] and not done["may_submit"]
    assert done["scores"] == SCORES
    shown = act("pemohon1", "statrequest_survey_show", id=req["id"])
    assert shown["comment"] == "Terima kasih, sangat membantu."
    with pytest.raises(tk.ValidationError) as err:
        act("pemohon1", "statrequest_survey_submit", id=req["id"], **SCORES)
    assert "already" in str(err.value.error_dict["survey"])
    assert _count(Survey) == 1


def test_no_survey_before_the_request_is_finished(office):
    rid = submit()["id"]
    assert act("pemohon1", "statrequest_survey_show", id=rid)["may_submit"] is False
    with pytest.raises(tk.ValidationError) as err:
        act("pemohon1", "statrequest_survey_submit", id=rid, **SCORES)
    assert "survey" in err.value.error_dict
    withdrawn = submit()["id"]
    act("pemohon1", "statrequest_transition", id=withdrawn, transition="batalkan", version=1)
    with pytest.raises(tk.ValidationError):  # withdrawn is final, but not a finished service
        act("pemohon1", "statrequest_survey_submit", id=withdrawn, **SCORES)
    assert _count(Survey) == 0


@pytest.mark.parametrize("user", ["pemohon2", "other", None, "sekretaris", "admin-kesehatan",
                                  "sysadmin"])
def test_only_the_requester_may_fill_it(office, user):
    req = _finished()
    with pytest.raises(tk.NotAuthorized):
        act(_who(office, user), "statrequest_survey_submit", id=req["id"], **SCORES)
    assert _count(Survey) == 0


@pytest.mark.parametrize("user,allowed", [
    ("pemohon1", True), ("pemohon2", False), (None, False), ("kasi", True),
    ("admin-kesehatan", False), ("sysadmin", True)])
def test_who_reads_the_survey(office, user, allowed):
    req = _finished()
    act("pemohon1", "statrequest_survey_submit", id=req["id"], **SCORES)
    if allowed:
        assert act(_who(office, user), "statrequest_survey_show", id=req["id"])["submitted"]
    else:
        with pytest.raises(tk.NotAuthorized):
            act(_who(office, user), "statrequest_survey_show", id=req["id"])


@pytest.mark.parametrize("field,value", [
    ("u1", 0), ("u2", 5), ("u3", "-1"), ("u4", "x"), ("u5", 2.5), ("u6", ""), ("u9", None),
    ("u7", [3]),
])
def test_scores_outside_the_scale_are_refused(office, field, value):
    req = _finished()
    data = SCORES | {field: value}
    if value is None:
        del data[field]
    with pytest.raises(tk.ValidationError) as err:
        act("pemohon1", "statrequest_survey_submit", id=req["id"], **data)
    assert field in err.value.error_dict
    assert _count(Survey) == 0


@pytest.mark.parametrize("comment", ["<script>alert(1)</script>", "bagus <img src=x onerror=1>",
                                     "javascript:alert(1)", "x" * 2001])
def test_bad_comments_are_refused(office, comment):
    req = _finished()
    with pytest.raises(tk.ValidationError) as err:
        act("pemohon1", "statrequest_survey_submit", id=req["id"], comment=comment, **SCORES)
    assert "comment" in err.value.error_dict
    assert _count(Survey) == 0


@pytest.mark.parametrize("ref", ["PDS-2026-99999", str(uuid.uuid4()), "../../etc/passwd",
                                 "x" * 100, "PDS-2026-000001", "' OR 1=1 --"])
def test_forged_request_ids_are_not_found(office, ref):
    _finished()
    with pytest.raises((tk.ObjectNotFound, tk.ValidationError)):
        act("pemohon1", "statrequest_survey_submit", id=ref, **SCORES)
    with pytest.raises((tk.ObjectNotFound, tk.ValidationError)):
        act("pemohon1", "statrequest_survey_show", id=ref)
    assert _count(Survey) == 0


# --- complaints ---------------------------------------------------------------------------

def test_complaints_get_numbers_and_can_be_about_own_request(office):
    req = submit()
    first = act("other", "statrequest_complaint_create", subject="Situs lambat",
                body="Halaman permintaan data lama sekali dimuat.")
    assert re.fullmatch(r"ADU-\d{4}-00001", first["number"])
    assert first["state"] == "diterima" and first["tracking_number"] is None
    second = act("pemohon1", "statrequest_complaint_create", subject="Belum ada jawaban",
                 body="Permintaan saya belum dijawab.", request=req["tracking_number"])
    assert second["number"].endswith("-00002")
    assert second["tracking_number"] == req["tracking_number"]
    assert "complainant" not in second  # the complainant sees no officials' fields


@pytest.mark.parametrize("ref", ["mine-of-other", "PDS-2026-99999", str(uuid.uuid4()), "x" * 80])
def test_complaint_about_someone_elses_or_unknown_request_is_refused(office, ref):
    theirs = submit("pemohon2")["tracking_number"]
    with pytest.raises(tk.ValidationError) as err:
        act("pemohon1", "statrequest_complaint_create", subject="Lambat", body="Lambat.",
            request=theirs if ref == "mine-of-other" else ref)
    assert "request" in err.value.error_dict
    assert _count(Complaint) == 0


@pytest.mark.parametrize("field,value", [
    ("subject", ""), ("body", ""), ("subject", "<b>Lambat</b>"),
    ("body", "<script>document.cookie</script>"), ("subject", "x" * 201), ("body", "y" * 4001),
    ("body", "ada\x00nol")])
def test_bad_complaints_are_refused(office, field, value):
    data = {"subject": "Lambat", "body": "Belum dijawab.", field: value}
    with pytest.raises(tk.ValidationError) as err:
        act("other", "statrequest_complaint_create", **data)
    assert field in err.value.error_dict
    assert _count(Complaint) == 0


@pytest.mark.parametrize("user", ["pemohon1", "other", "kasi", "admin-kesehatan", "sysadmin"])
def test_every_logged_in_user_may_complain(office, user):
    made = act(_who(office, user), "statrequest_complaint_create", subject="Lambat", body="Lambat.")
    assert made["state"] == "diterima"
    assert act(_who(office, user), "statrequest_complaint_list", mine=True)["count"] == 1


def test_anonymous_cannot_complain(office):
    with pytest.raises(tk.NotAuthorized):
        act(None, "statrequest_complaint_create", subject="Lambat", body="Lambat.")
    with pytest.raises(tk.NotAuthorized):
        act(None, "statrequest_complaint_list")
    assert _count(Complaint) == 0


@pytest.mark.ckan_config("ckanext.statrequest.complaint.per_day", "2")
def test_complaints_per_day_are_limited(office):
    for _ in range(2):
        act("other", "statrequest_complaint_create", subject="Lambat", body="Lambat.")
    with pytest.raises(tk.ValidationError) as err:
        act("other", "statrequest_complaint_create", subject="Lambat", body="Lambat.")
    assert "submission" in err.value.error_dict
    assert _count(Complaint) == 2


@pytest.mark.parametrize("user,allowed", [
    ("pemohon1", True), ("pemohon2", False), (None, False), ("staf1", True),
    ("admin-kesehatan", False), ("sysadmin", True)])
def test_who_sees_a_complaint(office, user, allowed):
    complaint = act("pemohon1", "statrequest_complaint_create", subject="Lambat", body="Lambat.")
    if allowed:
        shown = act(_who(office, user), "statrequest_complaint_show", id=complaint["number"])
        assert shown["id"] == complaint["id"]
        assert ("complainant_email" in shown) == (user != "pemohon1")
    else:
        with pytest.raises(tk.NotAuthorized):
            act(_who(office, user), "statrequest_complaint_show", id=complaint["number"])


@pytest.mark.parametrize("ref", ["ADU-2026-99999", str(uuid.uuid4()), "x" * 100, "ADU-%"])
def test_forged_complaint_ids_are_not_found(office, ref):
    act("pemohon1", "statrequest_complaint_create", subject="Lambat", body="Lambat.")
    with pytest.raises((tk.ObjectNotFound, tk.ValidationError)):
        act("pemohon1", "statrequest_complaint_show", id=ref)
    with pytest.raises((tk.ObjectNotFound, tk.ValidationError)):
        act("sekretaris", "statrequest_complaint_respond", id=ref, response="Baik.")


def test_lists(office):
    act("pemohon1", "statrequest_complaint_create", subject="Satu", body="Satu.")
    act("pemohon2", "statrequest_complaint_create", subject="Dua", body="Dua.")
    answered = act("pemohon2", "statrequest_complaint_create", subject="Tiga", body="Tiga.")
    act("sekretaris", "statrequest_complaint_respond", id=answered["id"], response="Sudah.")
    assert act("kasi", "statrequest_complaint_list")["count"] == 3
    assert act("kasi", "statrequest_complaint_list", state="ditanggapi")["count"] == 1
    assert act("kasi", "statrequest_complaint_list", mine=True)["count"] == 0
    assert [c["subject"] for c in act("pemohon1", "statrequest_complaint_list")["results"]] == [
        "Satu"]
    assert act("pemohon2", "statrequest_complaint_list")["count"] == 2
    for user in ("other", "admin-kesehatan"):
        assert act(user, "statrequest_complaint_list")["count"] == 0
    assert act(office.sysadmin, "statrequest_complaint_list")["count"] == 3
    with pytest.raises(tk.ValidationError):
        act("kasi", "statrequest_complaint_list", state="hapus")


def test_secretary_answers_and_closes(office):
    complaint = act("pemohon1", "statrequest_complaint_create", subject="Lambat", body="Lambat.")
    with pytest.raises(tk.ValidationError) as err:  # an answer is needed first
        act("sekretaris", "statrequest_complaint_respond", id=complaint["id"], close=True)
    assert "response" in err.value.error_dict
    answered = act("sekretaris", "statrequest_complaint_respond", id=complaint["number"],
                   response="Mohon maaf, permintaan Anda sedang diproses.")
    assert answered["state"] == "ditanggapi"
    seen = act("pemohon1", "statrequest_complaint_show", id=complaint["id"])
    assert seen["response"] == "Mohon maaf, permintaan Anda sedang diproses."
    assert seen["state_label"] and seen["responded_at"]
    closed = act("sekretaris", "statrequest_complaint_respond", id=complaint["id"], close=True)
    assert closed["state"] == "selesai" and closed["closed_at"]
    assert closed["response"] == "Mohon maaf, permintaan Anda sedang diproses."
    assert [h["state"] for h in closed["history"]] == ["diterima", "ditanggapi", "selesai"]
    with pytest.raises(tk.ValidationError):
        act("sekretaris", "statrequest_complaint_respond", id=complaint["id"], response="Lagi.")
    assert act("pemohon1", "statrequest_complaint_show", id=complaint["id"])["state"] == "selesai"


def test_sysadmin_may_answer_and_close_at_once(office):
    complaint = act("other", "statrequest_complaint_create", subject="Lambat", body="Lambat.")
    closed = act(office.sysadmin, "statrequest_complaint_respond", id=complaint["id"],
                 response="Sudah kami perbaiki.", close=True)
    assert closed["state"] == "selesai"


@pytest.mark.parametrize("user", ["pemohon1", "other", None, "kasi", "kadis", "admin-kesehatan"])
def test_only_the_secretary_answers(office, user):
    complaint = act("pemohon1", "statrequest_complaint_create", subject="Lambat", body="Lambat.")
    with pytest.raises(tk.NotAuthorized):
        act(user, "statrequest_complaint_respond", id=complaint["id"], response="Baik.")
    assert act("pemohon1", "statrequest_complaint_show", id=complaint["id"])["state"] == "diterima"


def test_script_in_the_answer_changes_nothing(office):
    complaint = act("pemohon1", "statrequest_complaint_create", subject="Lambat", body="Lambat.")
    with pytest.raises(tk.ValidationError) as err:
        act("sekretaris", "statrequest_complaint_respond", id=complaint["id"],
            response="<script>alert(1)</script>")
    assert "response" in err.value.error_dict
    shown = act("pemohon1", "statrequest_complaint_show", id=complaint["id"])
    assert (shown["state"], shown["response"], len(shown["history"])) == ("diterima", "", 1)


# --- pages --------------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", ["", "/en"])
def test_survey_page(office, app, prefix):
    req = _finished()
    url = f"{prefix}/permintaan-data/{req['tracking_number']}/survei"
    app.set_session_user("pemohon1")
    res = app.get(url)
    assert res.status_code == 200
    assert 'name="u9"' in res.body and 'type="radio"' in res.body
    bad = app.post(url, data={**{k: str(v) for k, v in SCORES.items()}, "u3": "7",
                              "comment": "<script>x</script>"})
    assert bad.status_code == 200
    assert 'id="u3-error"' in bad.body and 'id="comment-error"' in bad.body
    assert "<script>x</script>" not in bad.body
    assert _count(Survey) == 0
    done = app.post(url, data={k: str(v) for k, v in SCORES.items()}, follow_redirects=True)
    assert done.status_code == 200 and 'id="survey-done"' in done.body
    assert _count(Survey) == 1


def test_survey_page_access(office, app):
    req = _finished()
    url = f"/permintaan-data/{req['tracking_number']}/survei"
    assert app.get(url).status_code == 403  # anonymous
    app.set_session_user("pemohon2")
    assert app.get(url).status_code == 403
    assert app.post(url, data={k: str(v) for k, v in SCORES.items()}).status_code == 403
    app.set_session_user("pemohon1")
    assert app.get("/permintaan-data/PDS-2026-99999/survei").status_code == 404
    app.set_session_user("sekretaris")
    res = app.get(url)
    assert res.status_code == 200 and 'id="survey-closed"' in res.body
    assert _count(Survey) == 0


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_complaint_pages(office, app, prefix):
    req = submit()
    app.set_session_user("pemohon1")
    form = app.get(f"{prefix}/permintaan-data/pengaduan/baru",
                   query_string={"permintaan": req["tracking_number"]})
    assert form.status_code == 200
    assert f'<option selected value="{req["tracking_number"]}">' in form.body
    bad = app.post(f"{prefix}/permintaan-data/pengaduan/baru",
                   data={"subject": "", "body": "<b>x</b>", "request": ""})
    assert 'id="subject-error"' in bad.body and 'id="body-error"' in bad.body
    assert _count(Complaint) == 0
    res = app.post(f"{prefix}/permintaan-data/pengaduan/baru", follow_redirects=True, data={
        "subject": "Belum dijawab", "body": "Sudah seminggu.", "request": req["tracking_number"]})
    assert res.status_code == 200 and "ADU-" in res.body
    number = act("pemohon1", "statrequest_complaint_list")["results"][0]["number"]
    assert "complaint-respond-form" not in res.body
    mine = app.get(f"{prefix}/permintaan-data/pengaduan/saya")
    assert number in mine.body
    # a non-official asking for the officials' list gets their own
    assert app.get(f"{prefix}/permintaan-data/pengaduan", follow_redirects=False).status_code == 302

    app.set_session_user("sekretaris")
    listed = app.get(f"{prefix}/permintaan-data/pengaduan")
    assert listed.status_code == 200 and number in listed.body and "Pemohon1" in listed.body
    page = app.get(f"{prefix}/permintaan-data/pengaduan/{number}")
    assert 'id="complaint-respond-form"' in page.body
    empty = app.post(f"{prefix}/permintaan-data/pengaduan/{number}/tanggapi", data={"response": ""})
    assert 'id="response-error"' in empty.body
    answered = app.post(f"{prefix}/permintaan-data/pengaduan/{number}/tanggapi",
                        data={"response": "Sedang kami tindak lanjuti."}, follow_redirects=True)
    assert answered.status_code == 200

    app.set_session_user("pemohon1")
    seen = app.get(f"{prefix}/permintaan-data/pengaduan/{number}")
    assert "Sedang kami tindak lanjuti." in seen.body
    app.set_session_user("pemohon2")
    assert app.get(f"{prefix}/permintaan-data/pengaduan/{number}").status_code == 403
    assert app.post(f"{prefix}/permintaan-data/pengaduan/{number}/tanggapi",
                    data={"response": "Saya jawab."}).status_code == 403


def test_complaint_pages_need_login(office, app):
    complaint = act("pemohon1", "statrequest_complaint_create", subject="Lambat", body="Lambat.")
    for url in ("/permintaan-data/pengaduan", "/permintaan-data/pengaduan/saya",
                "/permintaan-data/pengaduan/baru", f"/permintaan-data/pengaduan/{complaint['number']}"):
        assert app.get(url).status_code == 403, url
    assert app.post("/permintaan-data/pengaduan/baru",
                    data={"subject": "x", "body": "y"}).status_code == 403
    assert _count(Complaint) == 1
    app.set_session_user("admin-kesehatan")
    assert app.get(f"/permintaan-data/pengaduan/{complaint['number']}").status_code == 403
    assert app.get("/permintaan-data/pengaduan/ADU-2026-99999").status_code == 404
