"""Complaints received at the counter (in person, by letter, email or phone): recorded by the
front desk for someone without an account, mailed to the complainant and the officials, due
within the configured working days, escalated once by the SLA check when left unanswered.
Real SMTP server (aiosmtpd), real Redis and a real RQ worker."""
from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage

import ckan.model as model
import ckantoolkit as tk
import pytest
import yaml
from freezegun import freeze_time
from sqlalchemy import func, select, update
from support import FRONT_DESK, Inbox, act, make_front_desk, submit, walk, work

from ckanext.statrequest import settings
from ckanext.statrequest.cli import statrequest
from ckanext.statrequest.core.workflow import DEFAULT_PATH
from ckanext.statrequest.model import Notification, Position
from ckanext.statrequest.model.feedback import Complaint

pytestmark = pytest.mark.usefixtures("with_plugins", "with_test_worker")

DESK = FRONT_DESK
EMAIL = "budi.santoso@example.test"
PHONE = "0812 3456 7890"


@pytest.fixture
def desk(office) -> str:
    """A front desk officer: a Diskominfo member holding the workflow's front desk position."""
    return make_front_desk(DESK)


def record(user: str = DESK, **overrides) -> dict:
    data = {"channel": "langsung", "complainant_name": "Budi Santoso",
            "complainant_email": EMAIL, "subject": "Data belum diterima",
            "body": "Saya datang ke loket menanyakan permintaan data saya.",
            "received_at": dt.date.today().isoformat()} | overrides
    return act(user, "statrequest_complaint_record", **{k: v for k, v in data.items()
                                                        if v is not None})


def address(name: str) -> str:
    return model.User.by_name(name).email


def text(m: EmailMessage) -> str:
    return m.get_body(("plain",)).get_content()


def html(m: EmailMessage) -> str:
    return m.get_body(("html",)).get_content()


def delivered(inbox: Inbox, queue: str) -> dict[str, list[EmailMessage]]:
    """Run the queued jobs; what arrived, by address."""
    work(queue)
    found: dict[str, list[EmailMessage]] = {}
    for m in inbox.take():
        found.setdefault(m["To"].addresses[0].addr_spec, []).append(m)
    return found


def written() -> tuple[int, int]:
    """Complaints and outbox rows."""
    model.Session.remove()
    return (model.Session.scalar(select(func.count()).select_from(Complaint)),
            model.Session.scalar(select(func.count()).select_from(Notification)))


def test_a_counter_complaint_reaches_complainant_and_officials_and_its_answer_follows(
        office, desk, mailbox, queue):
    request = submit()
    walk(office, request["id"], "tugaskan_staf")  # the request is now with staf1
    work(queue)
    mailbox.take()
    complaint = record(request=request["tracking_number"], complainant_phone=PHONE)
    assert re.fullmatch(r"ADU-\d{4}-\d+", complaint["number"])
    assert complaint["channel"] == "langsung" and complaint["due_at"]
    assert not complaint["overdue"] and not complaint["escalated"]
    # the due date: five working days after today, at the end of office hours
    calendar = settings.calendar()
    stored = model.Session.scalars(select(Complaint).where(
        Complaint.number == complaint["number"])).one()
    assert stored.complainant_id is None and stored.received_by == model.User.by_name(DESK).id
    assert stored.due_at == calendar.add_working_days(stored.received_at, 5)

    mails = delivered(mailbox, queue)
    # the complainant, the Secretary who answers complaints, and the request's holder
    assert set(mails) == {EMAIL, address("sekretaris"), address("staf1")}
    (receipt,) = mails[EMAIL]
    assert receipt["X-Statrequest-Kind"] == "complaint_received"
    assert complaint["number"] in receipt["Subject"]
    due = tk.get_action("statrequest_complaint_show")(
        {"user": "sekretaris"}, {"id": complaint["number"]})["due_at"]
    assert due == complaint["due_at"]
    from ckanext.statrequest.lib.notifications import when
    for part in (text(receipt), html(receipt)):
        assert complaint["number"] in part and when(stored.due_at, "id") in part
        assert "/pengaduan/" not in part  # no account: no page to read it on
    (news,) = mails[address("sekretaris")]
    assert news["X-Statrequest-Kind"] == "complaint_new"
    assert "Budi Santoso" in text(news) and request["tracking_number"] in text(news)
    assert f"/permintaan-data/pengaduan/{complaint['number']}" in text(news)
    assert address(DESK) not in mails

    # officials see the complainant's contact; the complainant has no account to look
    shown = act("sekretaris", "statrequest_complaint_show", id=complaint["number"])
    assert shown["complainant"] == "Budi Santoso" and shown["complainant_email"] == EMAIL
    assert shown["complainant_phone"] == PHONE and shown["received_by"] == "Petugas Loket"
    for outsider in ("pemohon1", "pemohon2"):
        with pytest.raises(tk.NotAuthorized):
            act(outsider, "statrequest_complaint_show", id=complaint["number"])

    act("sekretaris", "statrequest_complaint_respond", id=complaint["number"],
        response="Data Anda sudah kami kirim lewat email hari ini.")
    (answer,) = delivered(mailbox, queue)[EMAIL]
    assert answer["X-Statrequest-Kind"] == "complaint_answered"
    assert "Data Anda sudah kami kirim lewat email hari ini." in text(answer)
    answered = act("sekretaris", "statrequest_complaint_show", id=complaint["number"])
    assert answered["answered_late"] is False


def test_an_online_complaint_gets_a_due_date_too_and_the_list_filters_by_channel(
        office, desk, mailbox, queue):
    online = act("pemohon1", "statrequest_complaint_create", subject="Lambat",
                 body="Belum ada kabar.")
    assert online["channel"] == "portal" and online["due_at"]
    by_letter = record(channel="surat", complainant_email=None, complainant_phone=PHONE)
    listed = act("kasi", "statrequest_complaint_list", channel="surat")
    assert [c["number"] for c in listed["results"]] == [by_letter["number"]]
    assert act("kasi", "statrequest_complaint_list")["count"] == 2
    # a phone number only: the officials are told, no mail to the complainant
    mails = delivered(mailbox, queue)
    assert address("pemohon1") in mails  # the online complainant's receipt
    assert all(m["X-Statrequest-Kind"] == "complaint_new" for m in mails[address("sekretaris")])
    # statistics: complaints per channel
    figures = act("kasi", "statrequest_stats")["complaints"]
    assert {r["channel"]: r["count"] for r in figures["by_channel"]} == {"portal": 1, "surat": 1}
    assert figures["on_time_share"] is None  # nothing answered yet
    act("sekretaris", "statrequest_complaint_respond", id=online["number"], response="Maaf.")
    figures = act("kasi", "statrequest_stats")["complaints"]
    assert (figures["answered_on_time"], figures["on_time_share"]) == (1, 100.0)


@pytest.fixture
def since_2020(office) -> None:
    """The office's positions are dated today; the SLA test lives in February 2026."""
    model.Session.execute(update(Position).values(valid_from=dt.date(2020, 1, 1)))
    model.Session.commit()


def sla_check(cli, when: str) -> int:
    with freeze_time(when):
        result = cli.invoke(statrequest, ["sla-check"])
    assert result.exit_code == 0, result.output
    found = re.search(r"(\d+) mails about overdue complaints", result.output)
    assert found, result.output
    return int(found.group(1))


def test_an_unanswered_complaint_is_escalated_once(office, desk, since_2020, cli, mailbox,
                                                     queue):
    # received Monday 2 February 2026, 10:00 WIB: due Monday 9 February, 16:00 WIB
    with freeze_time("2026-02-02 03:00:00"):
        late = record(received_at="2026-02-02")
        answered = record(complainant_email="sari@example.test")
    act("sekretaris", "statrequest_complaint_respond", id=answered["number"],
        response="Sudah kami tindak lanjuti.")
    work(queue)
    mailbox.take()
    assert sla_check(cli, "2026-02-09 05:00:00") == 0  # due today, not yet past
    assert sla_check(cli, "2026-02-10 01:00:00") == 1  # the Head of Agency is told
    assert sla_check(cli, "2026-02-10 01:00:00") == 0  # run twice: one mail
    assert sla_check(cli, "2026-02-11 01:00:00") == 0  # and not again the next day
    (mail,) = delivered(mailbox, queue)[address("kadis")]
    assert mail["X-Statrequest-Kind"] == "complaint_escalation"
    assert late["number"] in mail["Subject"] and "Sekretaris Dinas" in text(mail)
    shown = act("sekretaris", "statrequest_complaint_show", id=late["number"])
    assert shown["escalated"] and shown["escalated_at"] and shown["overdue"]
    assert not act("sekretaris", "statrequest_complaint_show", id=answered["number"])["escalated"]
    overdue = act("sekretaris", "statrequest_complaint_list", overdue=True)["results"]
    assert [c["number"] for c in overdue] == [late["number"]]


@pytest.mark.parametrize("overrides,field", [
    ({"complainant_email": None}, "complainant_email"),  # no way to reach the complainant
    ({"complainant_email": "bukan-alamat"}, "complainant_email"),
    ({"complainant_name": ""}, "complainant_name"),
    ({"received_at": (dt.date.today() + dt.timedelta(days=2)).isoformat()}, "received_at"),
    ({"request": "SR-2026-999999"}, "request"),  # a forged request number
    ({"channel": "portal"}, "channel"),  # online complaints are the complainant's own
    ({"subject": "<script>alert(1)</script>"}, "subject"),
])
def test_bad_input_is_refused_and_nothing_written(office, desk, overrides, field):
    before = written()
    with pytest.raises(tk.ValidationError) as error:
        record(**overrides)
    assert field in error.value.error_dict
    assert written() == before


def test_only_the_front_desk_records_and_not_without_one(office, desk, tmp_path, ckan_config,
                                                         monkeypatch):
    before = written()
    for outsider in ("staf1", "pemohon1", None):
        with pytest.raises(tk.NotAuthorized):
            record(outsider)
    # a workflow without a front desk: refused for everyone, with the reason
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    data.pop("front_desk_position")
    path = tmp_path / "workflow.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.workflow_file", str(path))
    assert settings.workflow().front_desk_position is None
    for user in (DESK, office.sysadmin):
        with pytest.raises(tk.NotAuthorized, match="front desk"):
            record(user)
    assert written() == before
