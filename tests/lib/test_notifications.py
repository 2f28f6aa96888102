"""Email notifications through a real SMTP server (aiosmtpd), real Redis and a real RQ worker:
who receives what at each step, in which language, and delivery exactly once."""
from __future__ import annotations

import datetime as dt
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import ckan.model as model
import pytest
from ckan.lib import jobs as ckan_jobs
from sqlalchemy import select
from support import PASSPHRASE, Inbox, act, fire, free_port, request_data, start_smtp, submit, upload, work

from ckanext.statrequest.cli import statrequest
from ckanext.statrequest.lib import guest, jobs, notifications
from ckanext.statrequest.lib.notifications import Notification
from ckanext.statrequest.model import Request

pytestmark = pytest.mark.usefixtures("with_plugins", "with_test_worker")

REQUESTER_EMAIL = "dewi@example.test"  # support.request_data()


# --- a real mail server and a real worker: support.Inbox, support.work, conftest's mailbox/queue --

def address(user: str) -> str:
    return model.User.by_name(user).email


def received(inbox: Inbox, queue: str) -> dict[str, list[str]]:
    """Run the queued jobs; {recipient address: [kinds]} of what arrived."""
    work(queue)
    got: dict[str, list[str]] = {}
    for m in inbox.take():
        got.setdefault(str(m["To"].addresses[0].addr_spec), []).append(m["X-Statrequest-Kind"])
    return got


def outbox() -> list[Notification]:
    model.Session.remove()
    return list(model.Session.scalars(select(Notification).order_by(Notification.id)))


# --- who receives what --------------------------------------------------------------------------

def test_who_is_told_at_each_step_of_a_fulfilled_request(office, mailbox, queue, test_pki):
    dinkes = office.opd["dinas-kesehatan"]
    r = submit(organization_ids=[dinkes["id"], office.opd["dinas-pendidikan"]["id"]])
    rid, number = r["id"], r["tracking_number"]
    assert received(mailbox, queue) == {REQUESTER_EMAIL: ["received"],
                                        address("sekretaris"): ["action_needed"]}
    steps: list[tuple[str, str, dict[str, Any], dict[str, list[str]]]] = [
        ("sekretaris", "teruskan_ke_kadis", {}, {"kadis": ["action_needed"]}),
        ("kadis", "disposisi_ke_kabid", {"instruction": "Mohon ditindaklanjuti."},
         {"kabid": ["action_needed"]}),
        ("kabid", "disposisi_ke_kasi", {"instruction": "Koordinasikan dengan Dinkes."},
         {"kasi": ["action_needed"]}),
        # only the assigned staff member, not every holder of the staff position
        ("kasi", "tugaskan_staf", {"assignee": "staf1", "instruction": "Siapkan datanya."},
         {"staf1": ["action_needed"]}),
        # only the OPD it is routed to, not every OPD the requester mentioned
        ("staf1", "teruskan_ke_opd", {"opd": [dinkes["id"]]},
         {dinkes["admin"]: ["action_needed"]}),
        (dinkes["admin"], "unggah_hasil",
         {"result": upload("nakes.csv", b"puskesmas,dokter\nKetapang,4\n")},
         {"staf1": ["action_needed"]}),
        ("staf1", "hasil_sesuai", {"outcome": "dipenuhi", "note": "Data sesuai."},
         {"kasi": ["action_needed"]}),
        ("kasi", "teruskan_ke_kabid", {}, {"kabid": ["action_needed"]}),
        ("kabid", "paraf_kabid", {"passphrase": PASSPHRASE}, {"sekretaris": ["action_needed"]}),
        ("sekretaris", "paraf_sekretaris", {"passphrase": PASSPHRASE},
         {"kadis": ["action_needed"]}),
        ("kadis", "tandatangani", {"passphrase": PASSPHRASE}, {}),
    ]
    for actor, transition, inputs, expected in steps:
        fire(actor, rid, transition, **inputs)
        want = {address(user): kinds for user, kinds in expected.items()}
        if transition == "tandatangani":
            want = {REQUESTER_EMAIL: ["finished"]}
        if transition == "teruskan_ke_kadis":  # a public step: the requester hears of it
            want[REQUESTER_EMAIL] = ["progress"]
        assert received(mailbox, queue) == want, transition

    rows = outbox()
    assert all(row.sent_at is not None and row.attempts == 1 for row in rows)
    assert len(rows) == 14
    kasi_mail = next(r for r in rows if r.email == address("kasi") and "Dinkes" in r.body)
    assert number in kasi_mail.subject and f"/permintaan-data/{number}" in kasi_mail.body
    finished = next(r for r in rows if r.kind == "finished")
    assert number in finished.subject and "6104012345678901" not in finished.body


def test_sent_back_resubmitted_and_withdrawn(office, mailbox, queue):
    rid = submit()["id"]
    received(mailbox, queue)
    fire("sekretaris", rid, "minta_perbaikan", note="Surat permohonan belum ditandatangani.")
    work(queue)
    (returned,) = mailbox.take()
    assert returned["To"].addresses[0].addr_spec == REQUESTER_EMAIL
    assert returned["X-Statrequest-Kind"] == "returned"
    assert "Surat permohonan belum ditandatangani." in returned.get_body(("plain",)).get_content()

    fire("pemohon1", rid, "kirim_ulang", request_letter=upload("surat.pdf", b"%PDF-1.4\n%%EOF\n"))
    assert received(mailbox, queue) == {REQUESTER_EMAIL: ["received"],
                                        address("sekretaris"): ["action_needed"]}
    fire("pemohon1", rid, "batalkan")
    assert received(mailbox, queue) == {REQUESTER_EMAIL: ["finished"]}


def test_internal_notes_do_not_reach_the_requester(office, mailbox, queue, test_pki):
    rid = submit()["id"]
    received(mailbox, queue)
    fire("sekretaris", rid, "tolak", note="Rahasia: data dikecualikan menurut DIP.", reason="pasal17j")
    assert received(mailbox, queue) == {address("kabid"): ["action_needed"]}
    for user, step in (("kabid", "paraf_kabid"), ("sekretaris", "paraf_sekretaris"),
                       ("kadis", "tandatangani")):
        fire(user, rid, step, passphrase=PASSPHRASE)
    work(queue)
    finished = [r for r in outbox() if r.kind == "finished"]
    assert len(finished) == 1
    assert "Rahasia" not in finished[0].body
    assert "could not be fulfilled" in finished[0].body or "tidak dapat" in finished[0].body


def test_requester_language_is_the_page_language_officials_use_config(
        office, mailbox, queue, test_request_context):
    with test_request_context(environ_overrides={"CKAN_LANG": "en"}):
        rid = submit()["id"]
    work(queue)
    by_to = {m["To"].addresses[0].addr_spec: m for m in mailbox.take()}
    english, indonesian = by_to[REQUESTER_EMAIL], by_to[address("sekretaris")]
    assert english["Content-Language"] == "en"
    assert "Submitted — waiting for the Secretary's check" in english.get_body(("plain",)).get_content()
    assert "received" in english["Subject"]
    assert indonesian["Content-Language"] == "id"
    assert "Diajukan — menunggu pemeriksaan Sekretaris" in indonesian.get_body(("plain",)).get_content()

    # an official may choose English for himself
    kadis = model.User.by_name("kadis")
    kadis.plugin_extras = {"statrequest": {"language": "en"}}
    model.Session.commit()
    fire("sekretaris", rid, "teruskan_ke_kadis")
    work(queue)
    to_kadis = next(m for m in mailbox.take() if m["To"].addresses[0].addr_spec == address("kadis"))
    assert to_kadis["Content-Language"] == "en"
    assert "In progress — waiting for the Head of Agency" in to_kadis.get_body(("plain",)).get_content()

    # the requester's later emails keep the language of the submission
    fire("kadis", rid, "disposisi_ke_kabid", instruction="Lanjutkan.")
    work(queue)
    mailbox.take()
    assert [r.language for r in outbox() if r.email == REQUESTER_EMAIL] == ["en", "en"]


@pytest.mark.ckan_config("ckanext.statrequest.notify.language", "en")
def test_config_sets_the_officials_language(office, mailbox, queue):
    submit()
    work(queue)
    by_to = {m["To"].addresses[0].addr_spec: m for m in mailbox.take()}
    assert by_to[address("sekretaris")]["Content-Language"] == "en"
    # the requester submitted from an Indonesian page (the portal default)
    assert by_to[REQUESTER_EMAIL]["Content-Language"] == "id"


@pytest.mark.ckan_config("ckanext.statrequest.guest_mode", True)
def test_a_guest_follows_the_request_through_the_signed_link_in_the_email(office, mailbox, queue):
    created = act(None, "statrequest_create", **request_data())
    work(queue)
    by_to = {m["To"].addresses[0].addr_spec: m.get_body(("plain",)).get_content() for m in mailbox.take()}
    # the email's link opens this request (signed with its own issue time: it may differ from
    # the page's link by the second in which each was signed)
    links = re.findall(r"http://\S+/permintaan-data/tamu/(\S+)", by_to[REQUESTER_EMAIL])
    assert [guest.request_id_from(token) for token in links] == [created["id"]]
    assert created["guest_link"].rsplit("/", 1)[0] in by_to[REQUESTER_EMAIL]
    assert "/permintaan-data/tamu/" not in by_to[address("sekretaris")]  # the secret stays with the guest
    assert f"/permintaan-data/{created['tracking_number']}" in by_to[address("sekretaris")]


# --- exactly once --------------------------------------------------------------------------------

def test_mail_server_down_then_up_delivers_exactly_once(office, queue, ckan_config, monkeypatch, cli):
    port = free_port()  # nothing listens there yet
    monkeypatch.setitem(ckan_config, "smtp.server", f"127.0.0.1:{port}")
    rid = submit()["id"]
    work(queue)  # the first attempt and both retries fail
    rows = outbox()
    ids = [r.id for r in rows]
    assert len(rows) == 2
    assert all(r.sent_at is None and r.attempts == 3 for r in rows)
    assert all("could not be connected" in (r.last_error or "") for r in rows)
    # the transition itself went through
    assert model.Session.get(Request, rid).state == "diajukan"

    inbox = Inbox()
    controller = start_smtp(inbox, port)
    try:
        result = cli.invoke(statrequest, ["notifications-flush", "--min-age-minutes", "0"])
        assert result.exit_code == 0, result.output
        assert "2 unsent emails queued again" in result.output
        work(queue)
        assert sorted(m["To"].addresses[0].addr_spec for m in inbox.take()) == sorted(
            [REQUESTER_EMAIL, address("sekretaris")])
        # nothing is sent twice: not by another flush, nor by a stray duplicate job
        result = cli.invoke(statrequest, ["notifications-flush", "--min-age-minutes", "0"])
        assert "0 unsent emails queued again" in result.output
        for notification_id in ids:
            jobs.enqueue(notification_id)
        work(queue)
        assert inbox.take() == []
        rows = outbox()
        assert [r.id for r in rows] == ids  # the same two emails, no new ones
        assert all(r.sent_at is not None and r.attempts == 4 for r in rows)
    finally:
        controller.stop()


def test_two_workers_on_the_same_email_send_it_once(office, mailbox, queue):
    submit()
    (first, *_rest) = [r.id for r in outbox()]
    mailbox.delay = 0.5  # a slow mail server: both jobs run while the first one is sending

    def job() -> str:
        try:
            return jobs.send_notification(first)
        finally:
            model.Session.remove()

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(lambda _i: job(), range(2)))
    assert results == ["already sent or removed", "sent"]
    assert len(mailbox.take()) == 1


def test_temporary_failure_is_retried_with_back_off(office, mailbox, queue, ckan_config,
                                                   monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.notify.retry_intervals", "1 30")
    mailbox.fail = True  # 451: try again later
    submit()
    work(queue)
    assert mailbox.take() == []
    q = ckan_jobs.get_queue(queue)
    assert len(q.scheduled_job_registry.get_job_ids()) == 2  # waiting for the back-off
    rows = outbox()
    assert len(rows) == 2  # the receipt and the Secretary's email
    assert all(r.attempts == 1 and "451" in (r.last_error or "") for r in rows)

    mailbox.fail = False
    time.sleep(1.2)
    work(queue, scheduler=True)  # the scheduler puts the due retries back on the queue
    assert len(mailbox.take()) == 2
    rows = outbox()
    assert len(rows) == 2
    assert all(r.sent_at is not None and r.attempts == 2 for r in rows)


def test_jobs_lost_with_redis_are_recovered_by_the_flush(office, mailbox, queue):
    fire_after = submit()["id"]
    ckan_jobs.get_queue(queue).empty()  # Redis restarted without its data, or a worker died
    work(queue)
    assert mailbox.take() == []
    assert notifications.flush(min_age=dt.timedelta(0)) == {"enqueued": 2,
                                                                          "given_up": 0}
    work(queue)
    assert len(mailbox.take()) == 2
    fire("sekretaris", fire_after, "teruskan_ke_kadis")
    assert received(mailbox, queue) == {address("kadis"): ["action_needed"],
                                        REQUESTER_EMAIL: ["progress"]}


@pytest.mark.ckan_config("ckanext.statrequest.notify.give_up_hours", 1)
def test_flush_gives_up_on_very_old_emails(office, queue, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "smtp.server", f"127.0.0.1:{free_port()}")
    submit()
    later = notifications._now() + dt.timedelta(hours=2)
    assert notifications.flush(min_age=dt.timedelta(0), now=later) == {
        "enqueued": 0, "given_up": 2}


def test_a_failure_to_queue_emails_never_fails_the_step(office, mailbox, queue, monkeypatch):
    rid = submit()["id"]
    work(queue)
    mailbox.take()

    def broken(*args: Any, **kwargs: Any) -> list[Any]:
        raise RuntimeError("template missing")

    monkeypatch.setattr(notifications, "transition_messages", broken)
    done = fire("sekretaris", rid, "teruskan_ke_kadis")
    assert done["state"] == "disposisi_kadis"
    work(queue)
    assert mailbox.take() == []


def test_repeated_signal_adds_nothing(office, mailbox, queue):
    rid = submit()["id"]
    before = len(outbox())
    notifications.on_transitioned("ajukan", request_id=rid)  # e.g. a retried after_commit
    assert len(outbox()) == before
    work(queue)
    assert len(mailbox.take()) == 2


def test_no_mail_server_configured_keeps_emails_in_the_outbox(office, queue, ckan_config,
                                                             monkeypatch):
    monkeypatch.setitem(ckan_config, "smtp.server", "")
    submit()
    work(queue)
    rows = outbox()
    # not vacuous: the emails are there (the receipt and the Secretary's), none of them sent
    assert len(rows) == 2
    assert all(r.sent_at is None for r in rows)
