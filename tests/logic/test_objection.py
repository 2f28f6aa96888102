"""Objections (keberatan, UU 14/2008 Pasal 35-36): the requester objects to a refusal or a late
answer within the filing period; the Head of Agency decides it with a letter signed by their own
key, which verifies; the request's reply letter, state and figures stay as they were. Real
database, signing PKI, SMTP server (aiosmtpd) and worker."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import ckan.model as model
import ckantoolkit as tk
import pytest
from ckan.lib import jobs as ckan_jobs
from sqlalchemy import func, select
from support import PASSPHRASE, act, as_sysadmin, finished_request, fire, submit, upload, work

from ckanext.statrequest.model import Attachment, Event, Notification, Objection, Request

pytestmark = pytest.mark.usefixtures("with_plugins", "test_pki")

REASON = "Data ini statistik agregat, tidak memuat rahasia pribadi siapa pun."
DECISION = "Data yang diminta memuat nama pasien; pengecualian Pasal 17 huruf h tetap berlaku."


def refused_request(language: str = "en", test_request_context=None) -> str:
    """A request refused with a Pasal 17 reason and signed: `selesai`, outcome `ditolak`."""
    if test_request_context is not None:
        with test_request_context(environ_overrides={"CKAN_LANG": language}):
            rid = submit()["id"]
    else:
        rid = submit()["id"]
    fire("sekretaris", rid, "tolak", reason="pasal17h", note="Data memuat nama pasien.")
    fire("kabid", rid, "paraf_kabid", passphrase=PASSPHRASE)
    fire("sekretaris", rid, "paraf_sekretaris", passphrase=PASSPHRASE)
    assert fire("kadis", rid, "tandatangani", passphrase=PASSPHRASE)["state"] == "selesai"
    return rid


def _written(rid: str) -> tuple[int, int, int, int]:
    """Objections, events, attachments and the version of the request: what a refusal keeps."""
    model.Session.remove()
    count = lambda table: model.Session.scalar(  # noqa: E731
        select(func.count()).select_from(table).where(table.request_id == rid))
    return (count(Objection), count(Event), count(Attachment),
            model.Session.get(Request, rid).version)


def _refused(user: str, rid: str, exc: type[Exception] = tk.ValidationError, **data) -> Exception:
    before = _written(rid)
    with pytest.raises(exc) as refused:
        act(user, "statrequest_objection_create", id=rid, **data)
    assert _written(rid) == before  # nothing written
    return refused.value


def _pdf_text(pdf: bytes) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext missing (apt-get install poppler-utils)")
    out = subprocess.run([exe, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                         check=True, timeout=30).stdout.decode("utf-8")
    return " ".join(out.split())


def _file(rid: str, user: str, attachment_id: str) -> bytes:
    got = act(user, "statrequest_attachment_download", id=attachment_id)
    return b"".join(got["stream"])


def test_refusal_objection_decided_by_a_signed_letter_that_verifies(
        office, mailbox, queue, test_request_context, ckan_config, monkeypatch):
    rid = refused_request("en", test_request_context)
    number = as_sysadmin("statrequest_show", id=rid)["tracking_number"]
    figures_before = as_sysadmin("statrequest_stats")
    model.Session.remove()
    reply_id = model.Session.get(Request, rid).letter_attachment_id
    work(queue)
    mailbox.take()

    offer = act("pemohon1", "statrequest_objection_show", id=rid)
    assert offer["can_file"] and offer["objection"] is None
    assert [g["code"] for g in offer["grounds"]] == [
        "penolakan_pasal17", "tidak_dipenuhi", "tidak_sesuai_permintaan"]  # not "late"
    assert offer["filing_deadline"]
    # the generic step form neither offers nor takes the objection step
    assert "ajukan_keberatan" not in [
        t["name"] for t in act("pemohon1", "statrequest_available_transitions", id=rid)]
    with pytest.raises(tk.ValidationError):
        fire("pemohon1", rid, "ajukan_keberatan")

    filed = act("pemohon1", "statrequest_objection_create", id=rid,
                grounds=["penolakan_pasal17"], reason=REASON)
    assert filed["state"] == "keberatan" and filed["decision"] is None
    assert [g["code"] for g in filed["grounds"]] == ["penolakan_pasal17"]
    # its own deadline: 30 working days after filing
    filed_at = dt.datetime.fromisoformat(filed["filed_at"])
    due = dt.datetime.fromisoformat(filed["due_at"])
    assert dt.timedelta(days=40) <= due - filed_at <= dt.timedelta(days=50)
    # the request itself has not moved: still answered, same letter
    shown = act("pemohon1", "statrequest_show", id=rid)
    assert shown["state"] == "selesai" and shown["outcome"] == "ditolak"
    # the Head of Agency finds it in their list of objections to decide
    waiting = act("kadis", "statrequest_objection_list", waiting_for_me=True)
    assert [o["tracking_number"] for o in waiting["results"]] == [number]
    assert act("sekretaris", "statrequest_objection_list", waiting_for_me=True)["count"] == 0

    work(queue)
    mails = {m["To"].addresses[0].addr_spec: m for m in mailbox.take()}
    received = mails["dewi@example.test"]
    assert "Your objection has been received" in received["Subject"]
    assert number in received["Subject"]
    assert any(number in m["Subject"] for to, m in mails.items() if to != "dewi@example.test")

    # delivery does not run again: the decision is the requester's download on the request
    # page, the delivered dataset (the answer's data) stays as it was
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.delivery.queue", queue)
    decided = act("kadis", "statrequest_objection_decide", id=rid, decision="ditolak",
                  reason=DECISION, passphrase=PASSPHRASE)
    assert not [j for j in ckan_jobs.get_queue(queue).jobs if j.func_name.endswith(".deliver")]
    assert decided["state"] == "keberatan_diputus" and decided["decision"] == "ditolak"
    assert decided["decided_on_time"] is True and decided["letter_number"]

    # the decision letter: its own attachment; the reply letter is still the request's letter
    model.Session.remove()
    request = model.Session.get(Request, rid)
    assert request.letter_attachment_id == reply_id and request.state == "selesai"
    kinds = sorted(a["kind"] for a in act("pemohon1", "statrequest_show", id=rid)["attachments"]
                   if a["kind"] in ("signed_reply", "objection_decision"))
    assert kinds == ["objection_decision", "signed_reply"]
    pdf = _file(rid, "pemohon1", decided["letter_attachment_id"])
    text = _pdf_text(pdf)
    for words in ("Keputusan atas Keberatan", decided["letter_number"], number,
                  "Penolakan berdasarkan alasan pengecualian Pasal 17", REASON, DECISION,
                  "ditolak", "Komisi Informasi"):
        assert words in text, words
    assert decided["letter_number"] != request.letter_number  # its own number
    # signed with the Head of Agency's own key: the verification page says valid and ours
    verdict = act(None, "statrequest_verify", upload=upload("keputusan.pdf", pdf))
    assert verdict["status"] == "valid", verdict
    assert verdict["letter"]["letter_number"] == decided["letter_number"]
    assert [s["position"] for s in verdict["signers"] if s["kind"] == "signature"] == [
        "kepala_dinas"]
    code = model.Session.get(Objection, decided["id"]).verification_code
    assert act(None, "statrequest_verify", id=code)["letter"]["decision"] == "ditolak"
    reply = _file(rid, "pemohon1", reply_id)  # and the reply letter still verifies as before
    assert act(None, "statrequest_verify", upload=upload("surat.pdf", reply))["status"] == "valid"

    work(queue)
    (decided_mail,) = [m for m in mailbox.take()
                       if m["To"].addresses[0].addr_spec == "dewi@example.test"]
    assert "Your objection has been decided" in decided_mail["Subject"]
    assert "rejected" in decided_mail.get_body(("plain",)).get_content()

    # the answer's figures stand; the objection is counted on its own
    figures = as_sysadmin("statrequest_stats")
    for key in ("total", "finished", "open", "completion", "compliance", "by_state"):
        assert figures[key] == figures_before[key], key
    assert figures["objections"] == {"filed": 1, "upheld": 0, "rejected": 1,
                                     "decided_on_time": 1, "open": 0}
    assert act(None, "statrequest_stats_public")["objections"]["rejected"] == 1
    # the timeline shows both steps to the requester
    steps = [e["transition"] for e in act("pemohon1", "statrequest_event_list", id=rid)]
    assert steps[-2:] == ["ajukan_keberatan", "putuskan_keberatan"]
    # and nothing more can be filed or decided
    assert _refused("pemohon1", rid, grounds="tidak_dipenuhi", reason=REASON)
    with pytest.raises(tk.ValidationError):
        act("kadis", "statrequest_objection_decide", id=rid, decision="diterima",
            reason=DECISION, passphrase=PASSPHRASE)


def test_objection_after_its_period_is_refused_and_writes_nothing(office):
    rid = refused_request()
    model.Session.remove()
    request = model.Session.get(Request, rid)
    # answered 60 days ago: past the 30 working days
    request.closed_at = request.closed_at - dt.timedelta(days=60)
    model.Session.commit()
    refused = _refused("pemohon1", rid, grounds="penolakan_pasal17", reason=REASON)
    assert "period for filing an objection" in str(refused.error_dict["objection"])
    assert act("pemohon1", "statrequest_objection_show", id=rid)["can_file"] is False


def test_second_objection_is_refused(office):
    rid = refused_request()
    act("pemohon1", "statrequest_objection_create", id=rid, grounds="tidak_dipenuhi,"
        "penolakan_pasal17", reason=REASON)
    refused = _refused("pemohon1", rid, grounds="tidak_dipenuhi", reason="Sekali lagi.")
    assert "already filed" in str(refused.error_dict["objection"])


def test_an_answer_given_in_full_and_in_time_leaves_nothing_to_object_to(office):
    rid = finished_request(office)
    refused = _refused("pemohon1", rid, grounds="tidak_sesuai_permintaan", reason=REASON)
    assert "fulfilled in time" in str(refused.error_dict["objection"])
    assert act("pemohon1", "statrequest_objection_show", id=rid)["grounds"] == []


def test_a_late_answer_gives_the_late_ground_only(office):
    rid = finished_request(office)
    model.Session.remove()
    request = model.Session.get(Request, rid)
    request.sla_due_at = request.closed_at - dt.timedelta(days=2)  # answered after its deadline
    model.Session.commit()
    offer = act("pemohon1", "statrequest_objection_show", id=rid)
    assert [g["code"] for g in offer["grounds"]] == ["melebihi_waktu"]
    refused = _refused("pemohon1", rid, grounds="penolakan_pasal17", reason=REASON)
    assert "grounds" in refused.error_dict
    filed = act("pemohon1", "statrequest_objection_create", id=rid, grounds="melebihi_waktu",
                reason="Jawaban datang terlambat.")
    assert filed["grounds"][0]["code"] == "melebihi_waktu"


@pytest.mark.parametrize("data", [
    {"grounds": "", "reason": REASON},
    {"grounds": "bukan_alasan", "reason": REASON},
    {"grounds": ["penolakan_pasal17"] * 9, "reason": REASON},
    {"grounds": "penolakan_pasal17", "reason": ""},
    {"grounds": "penolakan_pasal17", "reason": "x" * 4001},
])
def test_bad_input_is_refused_and_writes_nothing(office, data):
    rid = refused_request()
    _refused("pemohon1", rid, **data)


def test_only_the_requester_objects_and_only_the_head_of_agency_decides(office):
    rid = refused_request()
    for user in ("pemohon2", "other", "kadis", None):
        _refused(user, rid, tk.NotAuthorized, grounds="tidak_dipenuhi", reason=REASON)
    act("pemohon1", "statrequest_objection_create", id=rid, grounds="tidak_dipenuhi",
        reason=REASON)
    before = _written(rid)
    for user in ("sekretaris", "pemohon1", "other", office.sysadmin):
        with pytest.raises(tk.NotAuthorized):
            act(user, "statrequest_objection_decide", id=rid, decision="diterima",
                reason=DECISION, passphrase=PASSPHRASE)
    # a wrong passphrase signs nothing and leaves the objection open
    with pytest.raises(tk.ValidationError) as wrong:
        act("kadis", "statrequest_objection_decide", id=rid, decision="diterima",
            reason=DECISION, passphrase="salah")
    assert "passphrase" in wrong.value.error_dict
    assert _written(rid) == before
    model.Session.remove()
    row = model.Session.scalars(select(Objection).where(Objection.request_id == rid)).one()
    assert row.state == "keberatan" and row.decision is None and row.letter_attachment_id is None
    upheld = act("kadis", "statrequest_objection_decide", id=rid, decision="diterima",
                 reason=DECISION, passphrase=PASSPHRASE)
    assert upheld["decision_label"] == "Objection upheld" or upheld["decision"] == "diterima"
    assert as_sysadmin("statrequest_stats")["objections"]["upheld"] == 1


def test_an_overdue_objection_is_shown_overdue_and_escalated(office, mailbox, queue):
    rid = refused_request()
    act("pemohon1", "statrequest_objection_create", id=rid, grounds="tidak_dipenuhi",
        reason=REASON)
    model.Session.remove()
    row = model.Session.scalars(select(Objection).where(Objection.request_id == rid)).one()
    row.due_at = row.filed_at - dt.timedelta(days=3)
    model.Session.commit()
    shown = act("kadis", "statrequest_objection_show", id=rid)["objection"]
    assert shown["overdue"] is True
    assert act("kadis", "statrequest_objection_list")["results"][0]["overdue"] is True
    work(queue)
    mailbox.take()
    as_sysadmin("statrequest_sla_check")
    model.Session.remove()
    reminders = model.Session.scalars(select(Notification).where(
        Notification.request_id == rid, Notification.event_key.like("objection-overdue:%"))).all()
    assert reminders  # the Head of Agency is reminded
