"""Officials' daily digest (`ckanext.statrequest.notify.officials = digest`): no mail per step
to officials, the requester still hears of every public step, and `ckan statrequest digest`
mails each official with work waiting exactly one mail listing exactly their requests, in
their language, once a working day. Real SMTP server (aiosmtpd), real Redis, real RQ worker."""
from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import ckan.model as model
import pytest
from freezegun import freeze_time
from sqlalchemy import select, update
from support import Inbox, fire, submit, work

from ckanext.statrequest import settings
from ckanext.statrequest.cli import statrequest
from ckanext.statrequest.model import Notification, Request

pytestmark = pytest.mark.usefixtures("with_plugins", "with_test_worker")

REQUESTER_EMAIL = "dewi@example.test"  # support.request_data()
OPTION = "ckanext.statrequest.notify.officials"


@pytest.fixture
def digest_mode(ckan_config, monkeypatch) -> None:
    monkeypatch.setitem(ckan_config, OPTION, "digest")


def address(user: str) -> str:
    return model.User.by_name(user).email


def delivered(inbox: Inbox, queue: str) -> dict[str, list[EmailMessage]]:
    """Run the queued jobs; {recipient address: [mails]} of what arrived."""
    work(queue)
    got: dict[str, list[EmailMessage]] = {}
    for m in inbox.take():
        got.setdefault(str(m["To"].addresses[0].addr_spec), []).append(m)
    return got


def kinds(mails: dict[str, list[EmailMessage]]) -> dict[str, list[str]]:
    return {to: [m["X-Statrequest-Kind"] for m in ms] for to, ms in mails.items()}


def text(m: EmailMessage) -> str:
    return m.get_body(("plain",)).get_content()


def html(m: EmailMessage) -> str:
    return m.get_body(("html",)).get_content()


def to_kabid(title: str) -> dict:
    """A request walked to the Head of Division's desk (telaah_kabid)."""
    created = submit(title=title)
    fire("sekretaris", created["id"], "teruskan_ke_kadis")
    fire("kadis", created["id"], "disposisi_ke_kabid", instruction="Mohon ditindaklanjuti.")
    return created


def morning() -> str:
    """08:00 office time of the next working day (positions are valid from today)."""
    calendar = settings.calendar()
    today = calendar.localize(dt.datetime.now(dt.timezone.utc)).date()
    day = calendar.next_working_day(today)
    start = dt.datetime.combine(day, dt.time(8), tzinfo=calendar.tz)
    return start.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def run_digest(cli, when: str) -> str:
    with freeze_time(when):
        result = cli.invoke(statrequest, ["digest"])
    assert result.exit_code == 0, result.output
    return result.output


def digest_rows() -> list[Notification]:
    model.Session.remove()
    return list(model.Session.scalars(
        select(Notification).where(Notification.kind == "digest").order_by(Notification.id)))


def test_in_digest_mode_officials_get_no_mail_per_step(office, mailbox, queue, digest_mode):
    to_kabid("Jumlah tenaga kesehatan 2025")
    # the requester still hears of the submission and of the public forwarding; no official
    # is mailed at any of the three steps
    assert kinds(delivered(mailbox, queue)) == {REQUESTER_EMAIL: ["received", "progress"]}
    model.Session.remove()
    assert not model.Session.scalars(
        select(Notification).where(Notification.email != REQUESTER_EMAIL)).all()


def test_the_digest_lists_each_officials_own_requests_once_a_day(
        office, mailbox, queue, cli, digest_mode):
    kabid = model.User.by_name("kabid")
    kabid.plugin_extras = {"statrequest": {"language": "en"}}
    model.Session.commit()
    mine = to_kabid("Jumlah tenaga kesehatan 2025")
    on_time = submit(title="Luas panen padi 2025")  # waits for the Secretary
    late = submit(title="Jumlah sekolah dasar 2025")
    model.Session.execute(update(Request).where(Request.id == late["id"]).values(
        sla_due_at=dt.datetime(2026, 1, 5, 9, tzinfo=dt.timezone.utc)))
    model.Session.commit()
    delivered(mailbox, queue)  # the requester's receipts

    when = morning()
    output = run_digest(cli, when)
    assert "2 digests queued" in output, output
    mails = delivered(mailbox, queue)
    # one digest each for the two officials with work waiting; no one else is mailed
    assert kinds(mails) == {address("kabid"): ["digest"], address("sekretaris"): ["digest"]}

    (english,) = mails[address("kabid")]
    assert english["Content-Language"] == "en"
    assert "Data requests waiting for you: 1" in english["Subject"]
    body = text(english)
    assert mine["tracking_number"] in body and "Jumlah tenaga kesehatan 2025" in body
    assert on_time["tracking_number"] not in body and late["tracking_number"] not in body
    state = settings.workflow().states["telaah_kabid"].label.get("en")
    assert state in body
    link = f"http://test.ckan.net/permintaan-data/{mine['tracking_number']}"
    assert link in body and f'<a href="{link}">' in html(english)
    assert "http://test.ckan.net/permintaan-data/kotak-masuk" in body

    (indonesian,) = mails[address("sekretaris")]
    assert indonesian["Content-Language"] == "id"
    assert "Permintaan data yang menunggu Anda: 2" in indonesian["Subject"]
    body = text(indonesian)
    assert mine["tracking_number"] not in body
    # most urgent first, the overdue one marked
    assert body.index(late["tracking_number"]) < body.index(on_time["tracking_number"])
    assert f"1. [TERLAMBAT] {late['tracking_number']}" in body
    assert f"2. {on_time['tracking_number']}" in body
    assert "Lewat tenggat: 1" in body

    # a second run the same day sends nothing
    assert "0 digests queued" in run_digest(cli, when)
    assert delivered(mailbox, queue) == {}
    assert len(digest_rows()) == 2
    assert all(r.request_id is None and r.sent_at is not None for r in digest_rows())


def test_no_digest_on_a_non_working_day(office, mailbox, queue, cli, digest_mode):
    to_kabid("Jumlah tenaga kesehatan 2025")
    delivered(mailbox, queue)
    calendar = settings.calendar()
    day = dt.date.today() + dt.timedelta(days=1)
    while calendar.is_working_day(day):
        day += dt.timedelta(days=1)
    output = run_digest(cli, f"{day.isoformat()} 01:00:00")
    assert "not a working day" in output
    assert digest_rows() == [] and delivered(mailbox, queue) == {}


def test_each_mode_keeps_one_mail_per_step(office, mailbox, queue, cli, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, OPTION, "each")
    rid = submit()["id"]
    fire("sekretaris", rid, "teruskan_ke_kadis")
    assert kinds(delivered(mailbox, queue)) == {
        REQUESTER_EMAIL: ["received", "progress"], address("sekretaris"): ["action_needed"],
        address("kadis"): ["action_needed"]}
    assert "each" in run_digest(cli, morning())
    assert digest_rows() == [] and delivered(mailbox, queue) == {}
