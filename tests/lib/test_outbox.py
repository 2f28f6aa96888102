"""A mail is never lost: the outbox rows of a step are written in the step's own transaction,
and enqueued only after its commit. Real processes: a CKAN process that dies right after the
commit (before it could enqueue anything), a real worker, a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import ckan.model as model
import ckantoolkit as tk
import pytest
from ckan.lib import jobs as ckan_jobs
from sqlalchemy import func, select, text
from support import PASSPHRASE, Inbox, act, fire, free_port, start_smtp, submit, walk, work

from ckanext.statrequest.cli import statrequest
from ckanext.statrequest.lib import jobs, notifications
from ckanext.statrequest.model import Notification, Request

pytestmark = pytest.mark.usefixtures("with_plugins", "with_test_worker")

ROOT = Path(__file__).resolve().parents[2]
DIES = 17  # the exit code of STEP_THEN_DIE when it died where it should

# A portal process (CKAN app from test.ini, the test database through the same environment)
# that fires one transition and dies at the first commit that wrote an event: the step and
# whatever else that transaction holds are in the database, nothing after the commit ran.
STEP_THEN_DIE = r"""
import os, sys
import ckan.model as model
import ckantoolkit as tk
from ckan.cli import load_config
from ckan.config.middleware import make_app
from sqlalchemy import event
from ckanext.statrequest.model import Event

ini, user, request_id, transition, version = sys.argv[1:]
app = make_app(load_config(ini))
wrote_event = []

@event.listens_for(model.Session, "after_flush")
def _seen(session, _context):
    wrote_event.extend(o for o in session.new if isinstance(o, Event))

@event.listens_for(model.Session, "after_commit")
def _die(session):
    if wrote_event and not session.in_nested_transaction():  # the commit, not a savepoint
        os._exit(17)

with app._wsgi_app.test_request_context():
    tk.get_action("statrequest_transition")(
        {"user": user}, {"id": request_id, "transition": transition, "version": int(version)})
sys.exit("the transition returned: the process was meant to die at its commit")
"""


def _address(user: str) -> str:
    return model.User.by_name(user).email


def _outbox() -> list[Notification]:
    model.Session.remove()
    return list(model.Session.scalars(select(Notification).order_by(Notification.id)))


def _flush(cli) -> str:
    result = cli.invoke(statrequest, ["notifications-flush", "--min-age-minutes", "0"])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_process_killed_between_commit_and_enqueue_still_sends_the_mail_once(
        office, mailbox, queue, cli):
    rid = submit()["id"]
    work(queue)
    assert len(mailbox.take()) == 2  # the receipt and the Secretary's
    version = act("sekretaris", "statrequest_show", id=rid)["version"]
    before = {n.id for n in _outbox()}

    died = subprocess.run(
        [sys.executable, "-c", STEP_THEN_DIE, str(ROOT / "test.ini"), "sekretaris", rid,
         "teruskan_ke_kadis", str(version)],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert died.returncode == DIES, died.stdout[-2000:] + died.stderr[-4000:]

    model.Session.remove()
    assert model.Session.get(Request, rid).state == "disposisi_kadis"  # the step is committed
    new = [n for n in _outbox() if n.id not in before]
    # ... and so are its emails, in the same transaction, never attempted (nobody enqueued them)
    assert [(n.kind, n.email, n.sent_at, n.attempts) for n in new] == [
        ("progress", "dewi@example.test", None, 0), ("action_needed", _address("kadis"), None, 0)]
    work(queue)
    assert mailbox.take() == []

    assert "2 unsent emails queued again" in _flush(cli)  # the periodic sweep (cron)
    work(queue)
    got = mailbox.take()
    assert sorted((m["To"].addresses[0].addr_spec, m["X-Statrequest-Kind"]) for m in got) == \
        sorted([(_address("kadis"), "action_needed"), ("dewi@example.test", "progress")])
    # exactly once: another sweep and a stray duplicate job send nothing more
    assert "0 unsent emails queued again" in _flush(cli)
    jobs.enqueue(new[0].id)
    work(queue)
    assert mailbox.take() == []
    assert all(n.sent_at is not None for n in _outbox())


def _outbox_count() -> int:
    model.Session.remove()
    return model.Session.scalar(select(func.count()).select_from(Notification))


def test_a_failed_step_writes_no_outbox_row(office, mailbox, queue, test_pki):
    rid = submit()["id"]
    work(queue)
    mailbox.take()
    stale = act("sekretaris", "statrequest_show", id=rid)["version"] - 1
    count = _outbox_count()
    with pytest.raises(tk.ValidationError):
        act("sekretaris", "statrequest_transition", id=rid, transition="teruskan_ke_kadis",
            version=stale)
    assert _outbox_count() == count

    # a failure after the emails were rendered and inserted: the Head of Division's paraf
    # with a wrong passphrase (the Secretary would be told next) takes them back with the step
    walk(office, rid, "teruskan_ke_kabid")
    work(queue)
    mailbox.take()
    count = _outbox_count()
    with pytest.raises(tk.ValidationError):
        fire("kabid", rid, "paraf_kabid", passphrase=PASSPHRASE + "-salah")
    assert _outbox_count() == count
    assert model.Session.get(Request, rid).state == "paraf_kabid"
    work(queue)
    assert mailbox.take() == []
    fire("kabid", rid, "paraf_kabid", passphrase=PASSPHRASE)
    assert _outbox_count() == count + 1
    work(queue)
    assert [m["To"].addresses[0].addr_spec for m in mailbox.take()] == [_address("sekretaris")]


# --- batched sending (notify.batch_size): one job, one connection, each email once ------------

@pytest.fixture
def batched(ckan_config, monkeypatch, queue) -> str:
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.notify.batch_size", 50)
    return queue


def test_batched_sending_sends_every_email_once_from_one_job(office, mailbox, batched):
    for _ in range(3):
        submit()
    # the batch job queued by the first step is still waiting: the next steps add no job
    assert ckan_jobs.get_queue(batched).count == 1
    work(batched)
    got = mailbox.take()
    rows = _outbox()
    assert len(rows) == 6 and all(n.sent_at is not None and n.attempts == 1 for n in rows)
    assert sorted(str(m["Message-ID"]) for m in got) == sorted(
        f"<statrequest-{n.id}@test.ckan.net>" for n in rows)
    # the same message as the one-job-per-email path builds
    receipt = next(m for m in got if m["X-Statrequest-Kind"] == "received")
    assert receipt["To"].addresses[0].addr_spec == "dewi@example.test"
    assert receipt["From"].addresses[0].addr_spec == "portal@satudata.test"
    assert receipt["Content-Language"] == "id" and receipt["Auto-Submitted"] == "auto-generated"
    assert "PDS-" in receipt["Subject"]
    assert _flush_count() == 0


def _flush_count() -> int:
    return notifications.flush(min_age=dt.timedelta(0))["enqueued"]


def test_two_batches_at_once_never_send_an_email_twice(office, mailbox, batched):
    for _ in range(4):
        submit()
    mailbox.delay = 0.05  # both batches are sending at the same time

    def batch() -> str:
        try:
            return jobs.send_due()
        finally:
            model.Session.remove()

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _i: batch(), range(2)))
    sent = [int(r.split()[0]) for r in results]
    assert sum(sent) == 8 and all(s > 0 for s in sent), results  # both took a share
    ids = [str(m["Message-ID"]) for m in mailbox.take()]
    assert len(ids) == len(set(ids)) == 8


def test_a_refused_batch_is_sent_by_the_next_flush(office, mailbox, batched):
    mailbox.fail = True  # 451 for every message
    submit()
    work(batched)
    rows = _outbox()
    assert len(rows) == 2 and all(
        n.sent_at is None and n.attempts >= 1 and "451" in (n.last_error or "") for n in rows)
    assert mailbox.take() == []
    mailbox.fail = False
    assert _flush_count() == 2
    work(batched)
    assert len(mailbox.take()) == 2
    assert all(n.sent_at is not None for n in _outbox())
    assert _flush_count() == 0


def test_mail_server_down_ends_the_batch_and_the_flush_sends_it_later(
        office, batched, ckan_config, monkeypatch):
    port = free_port()  # nothing listens there yet
    monkeypatch.setitem(ckan_config, "smtp.server", f"127.0.0.1:{port}")
    submit()
    work(batched)  # the batch and both retries stop at the first email: no connection
    first, second = _outbox()
    assert first.attempts == 3 and "refused" in (first.last_error or "").lower()
    assert second.attempts == 0 and first.sent_at is None and second.sent_at is None
    ids = [first.id, second.id]
    inbox = Inbox()
    controller = start_smtp(inbox, port)
    try:
        assert _flush_count() == 2
        work(batched)
        assert sorted(str(m["Message-ID"]) for m in inbox.take()) == sorted(
            f"<statrequest-{i}@test.ckan.net>" for i in ids)
    finally:
        controller.stop()


def test_parallel_senders_send_each_email_once(office, mailbox, batched, ckan_config,
                                                monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.notify.batch_threads", 3)
    for _ in range(4):
        submit()
    mailbox.delay = 0.05  # the senders overlap

    def batch() -> str:
        try:
            return jobs.send_due()
        finally:
            model.Session.remove()

    with ThreadPoolExecutor(2) as pool:  # two batch jobs of three senders each
        results = list(pool.map(lambda _i: batch(), range(2)))
    assert sum(int(r.split()[0]) for r in results) == 8, results
    ids = [str(m["Message-ID"]) for m in mailbox.take()]
    assert len(ids) == len(set(ids)) == 8
    assert all(n.sent_at is not None and n.attempts == 1 for n in _outbox())


def test_parallel_senders_raise_when_the_mail_server_is_down(office, batched, ckan_config,
                                                             monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.notify.batch_threads", 3)
    monkeypatch.setitem(ckan_config, "smtp.server", f"127.0.0.1:{free_port()}")
    submit()
    with pytest.raises(OSError):  # RQ retries the batch with back-off
        jobs.send_due()
    model.Session.remove()
    rows = _outbox()
    assert len(rows) == 2 and all(n.sent_at is None for n in rows)
    assert all("refused" in (n.last_error or "").lower() for n in rows if n.attempts)


# --- the one window SMTP leaves: the server's 250 and the commit of the "sent" mark ----------

class WatchingInbox(Inbox):
    """Looks at the database from outside (its own connection) at the two moments that matter:
    when the message's data has arrived (just before the server's 250) and at QUIT."""

    def __init__(self) -> None:
        super().__init__()
        self.at_data: list[tuple[bool, bool]] = []  # (row committed as sent, mark written)
        self.sent_at_quit: list[bool] = []
        self.current: int | None = None

    def _look(self, notification_id: int) -> tuple[bool, bool]:
        with model.meta.engine.connect() as conn:
            committed = conn.execute(text(
                "SELECT sent_at IS NOT NULL FROM statrequest_notification WHERE id = :i"),
                {"i": notification_id}).scalar()
            # the sender's own session: in a transaction whose last statement marked a row
            marking = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'idle in transaction' "
                "AND query LIKE 'UPDATE statrequest_notification SET sent_at%'")).scalar()
        return bool(committed), bool(marking)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.current = int(str(message["Message-ID"]).split("-")[1].split("@")[0])
        self.at_data.append(self._look(self.current))
        return await super().handle_DATA(server, session, envelope)

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        if self.current is not None:
            self.sent_at_quit.append(self._look(self.current)[0])
        return "221 Bye"


@pytest.mark.parametrize("batch_size", [0, 50])
def test_after_the_servers_250_only_the_commit_is_left(office, queue, ckan_config, monkeypatch,
                                                       batch_size):
    """#16, zero duplicated mails: SMTP has no exactly-once, so a sender killed after the
    server accepted a message and before the outbox row is committed as sent would send it
    again. Both senders shorten that window to the COMMIT alone: when the message reaches the
    server, the "sent" mark is already written (uncommitted, under the row's lock), and the
    commit comes before QUIT (CKAN's mailer quits first)."""
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.notify.batch_size", batch_size)
    inbox = WatchingInbox()
    controller = start_smtp(inbox, free_port())
    monkeypatch.setitem(ckan_config, "smtp.server", f"127.0.0.1:{controller.port}")
    try:
        submit()
        work(queue)
    finally:
        controller.stop()
    rows = _outbox()
    assert len(inbox.take()) == 2 and all(n.sent_at is not None for n in rows)
    # at the end of DATA: not committed yet, but the mark is written and only waits for COMMIT
    assert inbox.at_data == [(False, True), (False, True)]
    # at QUIT (one per email, or one for the whole batch): the last email is committed as sent
    assert inbox.sent_at_quit and all(inbox.sent_at_quit)
