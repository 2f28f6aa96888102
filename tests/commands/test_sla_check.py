"""`ckan statrequest sla-check`: reminders once a working day, escalation up the superior chain,
nothing new when run twice. February 2026 has no holiday before the 17th (Imlek)."""
from __future__ import annotations

import datetime as dt
import re

import ckan.model as model
import pytest
from freezegun import freeze_time
from sqlalchemy import select, update
from support import act, fire, submit, walk, work

from ckanext.statrequest.cli import statrequest
from ckanext.statrequest.lib.notifications import Notification
from ckanext.statrequest.model import Position

pytestmark = pytest.mark.usefixtures("with_plugins", "with_test_worker", "queue", "since_2020")

# Submitted Monday 2 February 2026, 10:00 WIB: due Monday 9 February, 16:00 WIB.
SUBMITTED = "2026-02-02 03:00:00"
FRIDAY_6, MONDAY_9, MONDAY_9_NOON = "2026-02-06 01:00:00", "2026-02-09 01:00:00", "2026-02-09 05:00:00"
TUESDAY_10, WEDNESDAY_11, THURSDAY_12, FRIDAY_13 = (
    "2026-02-10 01:00:00", "2026-02-11 01:00:00", "2026-02-12 01:00:00", "2026-02-13 01:00:00")
SATURDAY_14, MONDAY_16 = "2026-02-14 01:00:00", "2026-02-16 01:00:00"


@pytest.fixture
def since_2020(office) -> None:
    """The office's positions are dated today; these tests live in February 2026."""
    model.Session.execute(update(Position).values(valid_from=dt.date(2020, 1, 1)))
    model.Session.commit()


def check(cli, when: str) -> tuple[int, int]:
    """Run the command at a fixed time; (reminders, escalations) newly queued."""
    with freeze_time(when):
        result = cli.invoke(statrequest, ["sla-check"])
    assert result.exit_code == 0, result.output
    found = re.search(r"(\d+) reminders and (\d+) escalations", result.output)
    assert found, result.output
    return int(found.group(1)), int(found.group(2))


def sent(kind: str) -> list[str]:
    """User names that an outbox row of this kind is for, in order."""
    model.Session.remove()
    rows = model.Session.scalars(select(Notification).where(Notification.kind == kind)
                                 .order_by(Notification.id)).all()
    return [model.User.get(r.recipient.removeprefix("user:")).name for r in rows]


def test_secretary_reminded_when_due_then_head_told_when_overdue(office, cli):
    with freeze_time(SUBMITTED):
        submit()
    assert check(cli, FRIDAY_6) == (0, 0)  # two working days left
    assert check(cli, MONDAY_9) == (1, 0)  # due today
    assert sent("reminder") == ["sekretaris"]
    assert check(cli, MONDAY_9) == (0, 0)  # run twice in a row: nothing new
    assert check(cli, MONDAY_9_NOON) == (0, 0)  # at most once a working day
    assert check(cli, TUESDAY_10) == (1, 1)  # one working day overdue
    assert sent("escalation") == ["kadis"]  # the Secretary's superior
    assert check(cli, TUESDAY_10) == (0, 0)
    assert check(cli, WEDNESDAY_11) == (1, 0)  # the chain ends at the Head of Agency
    assert check(cli, SATURDAY_14) == (0, 0)  # not a working day
    assert sent("reminder") == ["sekretaris"] * 3


def test_staff_delay_climbs_the_superior_chain(office, cli):
    with freeze_time(SUBMITTED):
        walk(office, submit()["id"], "tugaskan_staf")
    assert check(cli, MONDAY_9) == (1, 0)
    assert sent("reminder") == ["staf1"]  # the assignee, not every staff member
    assert check(cli, TUESDAY_10) == (1, 1)
    assert check(cli, WEDNESDAY_11) == (1, 1)
    assert check(cli, THURSDAY_12) == (1, 1)
    assert check(cli, FRIDAY_13) == (1, 1)
    assert sent("escalation") == ["kasi", "kabid", "sekretaris", "kadis"]
    assert check(cli, MONDAY_16) == (1, 0)  # nobody above the Head of Agency
    assert check(cli, MONDAY_16) == (0, 0)


@pytest.mark.ckan_config("ckanext.statrequest.sla.escalate_after_days", 2)
@pytest.mark.ckan_config("ckanext.statrequest.sla.remind_days_before", 0)
def test_delays_are_configurable(office, cli):
    with freeze_time(SUBMITTED):
        submit()
    assert check(cli, MONDAY_9) == (0, 0)  # no reminder before the deadline
    assert check(cli, TUESDAY_10) == (1, 0)  # overdue, but not long enough to escalate
    assert check(cli, WEDNESDAY_11) == (1, 1)
    assert sent("escalation") == ["kadis"]


def test_opd_step_reminds_the_opd_and_the_staff_and_escalates_to_the_section_head(office, cli):
    dinkes = office.opd["dinas-kesehatan"]
    with freeze_time(SUBMITTED):
        walk(office, submit()["id"], "teruskan_ke_opd")
    assert check(cli, TUESDAY_10) == (2, 1)
    assert sorted(sent("reminder")) == sorted([dinkes["admin"], "staf1"])
    assert sent("escalation") == ["kasi"]


def test_paused_and_finished_requests_are_left_alone(office, cli):
    with freeze_time(SUBMITTED):
        paused = submit()["id"]
        fire("sekretaris", paused, "minta_perbaikan", note="Lengkapi surat.")
        withdrawn = submit()["id"]
        fire("pemohon1", withdrawn, "batalkan")
    assert check(cli, TUESDAY_10) == (0, 0)
    assert act("sekretaris", "statrequest_show", id=paused)["state"] == "perlu_perbaikan"


def test_reminders_and_escalations_are_delivered(office, cli, mailbox, queue):
    with freeze_time(SUBMITTED):
        submit()
    work(queue)
    mailbox.take()  # the receipt and the Secretary's first email
    assert check(cli, TUESDAY_10) == (1, 1)
    work(queue)
    by_kind = {m["X-Statrequest-Kind"]: m for m in mailbox.take()}
    assert by_kind.keys() == {"reminder", "escalation"}
    assert by_kind["reminder"]["To"].addresses[0].addr_spec == model.User.by_name("sekretaris").email
    assert by_kind["escalation"]["To"].addresses[0].addr_spec == model.User.by_name("kadis").email
    assert "Sekretaris Dinas" in by_kind["escalation"].get_body(("plain",)).get_content()  # who it waits for
    assert "Senin, 9 Februari 2026, 16:00 WIB" in by_kind["reminder"].get_body(("plain",)).get_content()
