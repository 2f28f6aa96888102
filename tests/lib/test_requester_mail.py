"""The requester hears of every public step of the workflow by mail (the steps the workflow
file marks `visibility: public`, and the submission), in the language they submitted in, as
plain text and HTML with the tracking link; a complainant hears when their complaint is
answered. Real SMTP server (aiosmtpd), real Redis and a real RQ worker."""
from __future__ import annotations

from email.message import EmailMessage

import ckan.model as model
import ckantoolkit as tk
import pytest
from sqlalchemy import select
from support import Inbox, act, fire, pdf_bytes, submit, upload, walk, work

from ckanext.statrequest import settings
from ckanext.statrequest.core.workflow import DEFAULT_PATH
from ckanext.statrequest.lib import notifications
from ckanext.statrequest.model import Event, Notification, Request

pytestmark = pytest.mark.usefixtures("with_plugins", "with_test_worker")

REQUESTER_EMAIL = "dewi@example.test"  # support.request_data()
NOTE = "Surat permohonan belum ditandatangani."

# What a reader sees in each mail's subject, per language.
SUBJECTS = {
    "id": {"received": "Permintaan data Anda telah diterima",
           "resubmitted": "Perbaikan permintaan data Anda telah diterima",
           "returned": "Permintaan data Anda perlu diperbaiki",
           "progress": "Permintaan data Anda sedang diproses",
           "finished": "Permintaan data Anda telah dijawab",
           "withdrawn": "Permintaan data Anda telah dibatalkan"},
    "en": {"received": "Your data request has been received",
           "resubmitted": "Your corrected data request has been received",
           "returned": "Your data request needs changes",
           "progress": "Your data request is being processed",
           "finished": "Your data request has been answered",
           "withdrawn": "Your data request has been withdrawn"},
}
ANSWER_BY = {"id": "Kami akan memberikan jawaban paling lambat", "en": "We will answer at the latest on"}


def mail_to(inbox: Inbox, queue: str, address: str) -> list[EmailMessage]:
    """Run the queued jobs; what arrived for `address`, in order of sending."""
    work(queue)
    return [m for m in inbox.take() if m["To"].addresses[0].addr_spec == address]


def text(m: EmailMessage) -> str:
    return m.get_body(("plain",)).get_content()


def html(m: EmailMessage) -> str:
    return m.get_body(("html",)).get_content()


def submit_in(language: str, test_request_context) -> dict:
    with test_request_context(environ_overrides={"CKAN_LANG": language}):
        return submit()


def public_steps(request_id: str) -> set[str]:
    """Outbox causes of the request's submission and of its steps the workflow marks public."""
    model.Session.remove()
    wf = settings.workflow()
    events = model.Session.scalars(select(Event).where(Event.request_id == request_id)).all()
    return {f"event:{e.id}" for e in events
            if e.from_state is None or (e.transition in wf.transitions
                                        and wf.transitions[e.transition].is_public)}


def requester_rows(request_id: str) -> list[Notification]:
    model.Session.remove()
    return list(model.Session.scalars(
        select(Notification).where(Notification.request_id == request_id,
                                   Notification.email == REQUESTER_EMAIL)
        .order_by(Notification.id)))


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_requester_gets_one_mail_per_public_step(
        office, mailbox, queue, test_pki, test_request_context, language):
    created = submit_in(language, test_request_context)
    rid, number = created["id"], created["tracking_number"]
    due = notifications.when(model.Session.get(Request, rid).sla_due_at, language)
    fire("sekretaris", rid, "minta_perbaikan", note=NOTE)
    fire("pemohon1", rid, "kirim_ulang", request_letter=upload("surat.pdf", pdf_bytes()))
    walk(office, rid, "tandatangani")  # forwarded, disposed, ..., signed

    mails = mail_to(mailbox, queue, REQUESTER_EMAIL)
    kinds = [m["X-Statrequest-Kind"] for m in mails]
    assert kinds == ["received", "returned", "received", "progress", "finished"]
    # one mail per public step of the workflow file, none for the internal ones
    assert {r.event_key for r in requester_rows(rid)} == public_steps(rid)
    assert len(public_steps(rid)) == len(mails)

    subjects = SUBJECTS[language]
    expected = ["received", "returned", "resubmitted", "progress", "finished"]
    for mail, subject in zip(mails, expected, strict=True):
        assert mail["Content-Language"] == language
        assert subjects[subject] in mail["Subject"] and number in mail["Subject"]
        link = f"http://test.ckan.net/permintaan-data/{number}"
        assert link in text(mail)  # the tracking link, in both parts
        assert f'<a href="{link}">' in html(mail) and f'lang="{language}"' in html(mail)
    received, returned, _resubmitted, progress, finished = mails
    assert ANSWER_BY[language] in text(received) and due in text(received)
    assert NOTE in text(returned) and NOTE in html(returned)
    # in progress: where it is now and what follows
    label = settings.workflow().states["disposisi_kadis"].label.get(language)
    assert label in text(progress) and ANSWER_BY[language] in text(progress)
    ready = {"id": "Data yang Anda minta telah tersedia", "en": "The data you requested is ready"}
    assert ready[language] in text(finished)


def test_a_withdrawal_is_confirmed_in_the_requester_language(
        office, mailbox, queue, test_request_context):
    rid = submit_in("en", test_request_context)["id"]
    fire("sekretaris", rid, "minta_perbaikan", note=NOTE)
    fire("pemohon1", rid, "batalkan")
    mails = mail_to(mailbox, queue, REQUESTER_EMAIL)
    assert [m["X-Statrequest-Kind"] for m in mails] == ["received", "returned", "finished"]
    withdrawn = mails[-1]
    assert withdrawn["Content-Language"] == "en"
    assert SUBJECTS["en"]["withdrawn"] in withdrawn["Subject"]
    assert "No further action will be taken" in text(withdrawn)


def test_a_regency_workflow_decides_which_steps_the_requester_hears_of(
        office, mailbox, queue, tmp_path, ckan_config, monkeypatch):
    """Who is told follows `visibility` in the workflow file: here forwarding to the Head of
    Agency is internal and his disposition public."""
    source = DEFAULT_PATH.read_text()
    forward = "    visibility: public\n    label: {id: Teruskan ke Kepala Dinas,"
    dispose = "    visibility: internal\n    label: {id: Disposisi ke Kepala Bidang,"
    assert forward in source and dispose in source
    changed = source.replace(forward, forward.replace("public", "internal")).replace(
        dispose, dispose.replace("internal", "public"))
    path = tmp_path / "alur-kabupaten.yaml"
    path.write_text(changed)
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.workflow_file", str(path))

    rid = submit()["id"]
    fire("sekretaris", rid, "teruskan_ke_kadis")
    fire("kadis", rid, "disposisi_ke_kabid", instruction="Mohon ditindaklanjuti.")
    fire("kabid", rid, "disposisi_ke_kasi", instruction="Koordinasikan.")
    mails = mail_to(mailbox, queue, REQUESTER_EMAIL)
    assert [m["X-Statrequest-Kind"] for m in mails] == ["received", "progress"]
    label = settings.workflow().states["telaah_kabid"].label.get("id")
    assert label in text(mails[1])


def _address(user: str) -> str:
    return model.User.by_name(user).email


def _outbox_count() -> int:
    model.Session.remove()
    return len(model.Session.scalars(select(Notification.id)).all())


def test_the_complainant_is_told_when_the_complaint_is_answered(
        office, mailbox, queue, test_request_context):
    request = submit_in("en", test_request_context)
    complaint = act("pemohon1", "statrequest_complaint_create", subject="Lambat",
                    body="Belum ada kabar.", request=request["tracking_number"])
    mail_to(mailbox, queue, REQUESTER_EMAIL)
    before = _outbox_count()
    with pytest.raises(tk.ValidationError):  # no answer written: 4xx, nothing queued
        act("sekretaris", "statrequest_complaint_respond", id=complaint["number"], response="")
    assert _outbox_count() == before

    act("sekretaris", "statrequest_complaint_respond", id=complaint["number"],
        response="Permintaan Anda sedang kami proses; jawaban paling lambat pekan depan.")
    (mail,) = mail_to(mailbox, queue, _address("pemohon1"))
    assert mail["X-Statrequest-Kind"] == "complaint_answered"
    assert mail["Content-Language"] == "en"  # the language of the request it is about
    assert complaint["number"] in mail["Subject"] and "answered" in mail["Subject"]
    link = f"http://test.ckan.net/permintaan-data/pengaduan/{complaint['number']}"
    for part in (text(mail), html(mail)):
        assert "jawaban paling lambat pekan depan" in part and link in part
    assert request["tracking_number"] in text(mail)

    # a complaint about the service in general, answered and closed at once
    general = act("pemohon2", "statrequest_complaint_create", subject="Formulir",
                  body="Formulir sulit ditemukan.")
    act("sekretaris", "statrequest_complaint_respond", id=general["number"],
        response="Formulir kini ada di halaman depan.", close=True)
    receipt, mail = mail_to(mailbox, queue, _address("pemohon2"))  # its receipt, then the answer
    assert receipt["X-Statrequest-Kind"] == "complaint_received"
    assert mail["Content-Language"] == "id"
    assert "Pengaduan Anda telah ditanggapi" in mail["Subject"]
    assert "Formulir kini ada di halaman depan." in text(mail) and "Selesai" in text(mail)
