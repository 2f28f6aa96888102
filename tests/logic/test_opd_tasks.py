"""Parallel OPD tasks (issue #12): a request routed to several OPD has one task per OPD, each
with its own status, deadline, reminder and escalation; the request moves on when every task
is settled (an answer, "no data", or closed by staff with a reason); per-OPD statistics.

February 2026 has no holiday before the 17th (Imlek). Times are UTC; WIB is UTC+7.
"""
from __future__ import annotations

import datetime as dt
import re

import ckan.model as model
import ckantoolkit as tk
import pytest
from freezegun import freeze_time
from sqlalchemy import select, update
from support import RESULT_CSV, act, fire, submit, upload, walk, work

from ckanext.statrequest import settings
from ckanext.statrequest.cli import statrequest
from ckanext.statrequest.lib import opd, opd_stats, opd_tasks
from ckanext.statrequest.model import Event, OpdTask, Position

pytestmark = pytest.mark.usefixtures("with_plugins", "with_test_worker", "queue", "since_2020")

SUBMITTED = "2026-02-02 03:00:00"  # Monday 10:00 WIB: request due Monday 9th, 16:00 WIB
TUESDAY, WEDNESDAY = "2026-02-03 03:00:00", "2026-02-04 03:00:00"  # 10:00 WIB
WEDNESDAY_LATER = "2026-02-04 03:30:00"
THURSDAY_8, FRIDAY_8, FRIDAY_9 = "2026-02-05 01:00:00", "2026-02-06 01:00:00", "2026-02-06 02:00:00"
TASK_DUE = dt.datetime(2026, 2, 5, 9, 0, tzinfo=dt.timezone.utc)  # Thursday 16:00 WIB


@pytest.fixture
def since_2020(office) -> None:
    """The office's positions are dated today; these tests live in February 2026."""
    model.Session.execute(update(Position).values(valid_from=dt.date(2020, 1, 1)))
    model.Session.commit()


@pytest.fixture
def sixty_opd(office) -> None:
    """60 OPD in all: the office's three and 57 more."""
    from ckan.tests import factories

    for n in range(1, 58):
        factories.Organization(name=f"perangkat-daerah-{n:02d}", title=f"Perangkat Daerah {n:02d}")


def _options(body: str, select_id: str) -> list[str]:
    found = re.search(rf'<select[^>]*id="{re.escape(select_id)}"[^>]*>(.*?)</select>', body, re.DOTALL)
    assert found, select_id
    return re.findall(r'<option[^>]*value="([^"]*)"', found.group(1))


def check(cli, when: str) -> tuple[int, int]:
    """sla-check at a fixed time; (agency task reminders, agency task escalations)."""
    with freeze_time(when):
        result = cli.invoke(statrequest, ["sla-check"])
    assert result.exit_code == 0, result.output
    found = re.search(r"(\d+) agency task reminders and (\d+) agency task escalations", result.output)
    assert found, result.output
    return int(found.group(1)), int(found.group(2))


def mails(inbox, queue) -> dict[str, list[str]]:
    """Run the queued jobs; {user name: [kinds]} of what arrived over SMTP."""
    work(queue)
    by_email = {u.email: u.name for u in model.Session.scalars(select(model.User))}
    got: dict[str, list[str]] = {}
    for m in inbox.take():
        to = str(m["To"].addresses[0].addr_spec)
        got.setdefault(by_email.get(to, to), []).append(m["X-Statrequest-Kind"])
    return got


def tasks(rid: str) -> dict[str, OpdTask]:
    model.Session.remove()
    return {t.organization_id: t for t in model.Session.scalars(
        select(OpdTask).where(OpdTask.request_id == rid))}


def onward(answered: bool) -> str:
    """Where the workflow's answering steps from the OPD state lead (read from the YAML)."""
    wf = settings.workflow()
    (state,) = wf.states_waiting_for(["opd"])
    return opd_tasks.onward(wf, state, ["answered" if answered else "no_data"])


@pytest.mark.ckan_config("ckanext.statrequest.opd_task_days", "3")
def test_three_opd_answer_no_data_overdue_then_closed(office, sixty_opd, cli, make_app, mailbox, queue):
    dinkes, didik, tani = (office.opd[s] for s in ("dinas-kesehatan", "dinas-pendidikan",
                                                   "dinas-pertanian"))
    # 60 OPD: every one offered on the routing form, and routable
    assert len(opd.offered()) == 60
    with freeze_time(SUBMITTED):
        rid = walk(office, submit()["id"], "tugaskan_staf")
        shown = act("staf1", "statrequest_show", id=rid)
        app = make_app()
        app.set_session_user("staf1")
        page = app.get(f"/permintaan-data/{shown['tracking_number']}").body
        assert len(_options(page, "teruskan_ke_opd-opd")) == 60
        routed = fire("staf1", rid, "teruskan_ke_opd", opd=[dinkes["id"], didik["id"], tani["id"]])
    waiting = routed["state"]
    assert settings.workflow().states[waiting].holder == "opd"
    assert {t.organization_id: (t.status, t.due) for t in tasks(rid).values()} == {
        org["id"]: ("asked", TASK_DUE) for org in (dinkes, didik, tani)}  # 3 working days
    mails(mailbox, queue)

    with freeze_time(TUESDAY):  # Dinas Kesehatan answers: its task only; the request waits
        after = fire(dinkes["admin"], rid, "unggah_hasil", result=upload("nakes.csv", RESULT_CSV))
    assert after["state"] == waiting
    assert mails(mailbox, queue) == {}  # nobody has anything new to do yet
    with pytest.raises(tk.ValidationError, match="already answered"):
        fire(dinkes["admin"], rid, "unggah_hasil", result=upload("nakes.csv", RESULT_CSV))
    with freeze_time(WEDNESDAY):  # Dinas Pendidikan has no such data
        after = fire(didik["admin"], rid, "data_tidak_tersedia", note="Tidak ada data.")
    assert after["state"] == waiting
    assert {k: t.status for k, t in tasks(rid).items()} == {
        dinkes["id"]: "answered", didik["id"]: "no_data", tani["id"]: "asked"}

    # Dinas Pertanian stays silent: reminded once when due within a working day, then the
    # assigned staff member and the Section Head are told once it is overdue
    assert check(cli, WEDNESDAY_LATER) == (0, 0)
    assert check(cli, THURSDAY_8) == (1, 0)
    assert check(cli, THURSDAY_8) == (0, 0)
    assert mails(mailbox, queue) == {tani["admin"]: ["opd_task_reminder"]}
    assert check(cli, FRIDAY_8) == (0, 2)
    assert check(cli, FRIDAY_8) == (0, 0)
    got = mails(mailbox, queue)
    assert got.get("staf1") == ["opd_task_escalation"] and got.get("kasi") == ["opd_task_escalation"]
    task = tasks(rid)[tani["id"]]
    assert task.reminded_at is not None and task.escalated_at is not None
    timeline = [e.transition for e in model.Session.scalars(
        select(Event).where(Event.request_id == rid).order_by(Event.id))]
    assert timeline[-2:] == [opd_tasks.REMINDER_EVENT, opd_tasks.ESCALATION_EVENT]
    with freeze_time(FRIDAY_8):
        rows = {r["organization_id"]: r["status"]
                for r in act("staf1", "statrequest_show", id=rid)["opd_tasks"]}
    assert rows == {dinkes["id"]: "answered", didik["id"]: "no_data", tani["id"]: "overdue"}
    # an OPD sees only its own row; the requester none
    with freeze_time(FRIDAY_8):
        assert [r["organization_id"] for r in act(tani["admin"], "statrequest_show", id=rid)
                ["opd_tasks"]] == [tani["id"]]
        assert act("pemohon1", "statrequest_show", id=rid)["opd_tasks"] == []

    # staff close the silent OPD's task with a reason: the request moves on (one answered)
    version = act("staf1", "statrequest_show", id=rid)["version"]
    with pytest.raises(tk.NotAuthorized):
        act(tani["admin"], "statrequest_opd_task_close", id=rid, organization=tani["id"],
            reason="x", version=version)
    with pytest.raises(tk.ValidationError):
        act("staf1", "statrequest_opd_task_close", id=rid, organization=dinkes["id"],
            reason="Sudah dijawab", version=version)
    with freeze_time(FRIDAY_9):
        closed = act("staf1", "statrequest_opd_task_close", id=rid, organization=tani["id"],
                     reason="Tidak merespons; data dari OPD lain cukup.", version=version)
    assert closed["state"] == onward(answered=True) != waiting
    assert tasks(rid)[tani["id"]].closed_reason.startswith("Tidak merespons")
    with pytest.raises(tk.ValidationError):  # too late for the closed OPD
        fire(tani["admin"], rid, "data_tidak_tersedia", note="x")

    # statistics per OPD
    with freeze_time(FRIDAY_9):
        figures = {r["title"]: r for r in act("kasi", "statrequest_stats")["opd_tasks"]}
        assert figures == {r["title"]: r for r in opd_stats.per_opd()}
    pick = ("tasks", "answered", "no_data", "closed", "open", "overdue", "median_answer_days",
            "on_time", "judged", "on_time_share", "no_data_share")
    assert {k: tuple(v[p] for p in pick) for k, v in figures.items()} == {
        "Dinas Kesehatan": (1, 1, 0, 0, 0, 0, 1.0, 1, 1, 1.0, 0.0),
        "Dinas Pendidikan": (1, 0, 1, 0, 0, 0, 2.0, 1, 1, 1.0, 1.0),
        "Dinas Pertanian": (1, 0, 0, 1, 0, 0, None, 0, 1, 0.0, 0.0),
    }


def test_all_no_data_takes_the_no_data_path(office):
    dinkes, didik = office.opd["dinas-kesehatan"], office.opd["dinas-pendidikan"]
    rid = walk(office, submit()["id"], "tugaskan_staf")
    waiting = fire("staf1", rid, "teruskan_ke_opd", opd=[dinkes["id"], didik["id"]])["state"]
    assert fire(dinkes["admin"], rid, "data_tidak_tersedia", note="Tidak ada.")["state"] == waiting
    # an OPD that answered has nothing more to do: no steps offered, not in its inbox
    assert act(dinkes["admin"], "statrequest_available_transitions", id=rid) == []
    assert act(dinkes["admin"], "statrequest_list", waiting_for_me=True)["count"] == 0
    assert act(didik["admin"], "statrequest_list", waiting_for_me=True)["count"] == 1
    assert act(didik["admin"], "statrequest_available_transitions", id=rid) != []
    assert fire(didik["admin"], rid, "data_tidak_tersedia", note="Tidak ada.")["state"] == \
        onward(answered=False)
    # the results did not match: back to the OPD, every task asked again
    fire("staf1", rid, "hasil_tidak_sesuai", note="Mohon dicek ulang.")
    assert {t.status for t in tasks(rid).values()} == {"asked"}


def test_task_table_and_close_form_on_the_request_page(office, make_app):
    dinkes, didik = office.opd["dinas-kesehatan"], office.opd["dinas-pendidikan"]
    rid = walk(office, submit()["id"], "tugaskan_staf")
    fire("staf1", rid, "teruskan_ke_opd", opd=[dinkes["id"], didik["id"]])
    shown = act("staf1", "statrequest_show", id=rid)
    url = f"/permintaan-data/{shown['tracking_number']}"

    app = make_app()
    app.set_session_user("staf1")
    body = app.get(url).body
    table = re.search(r'<table[^>]*id="opd-tasks".*?</table>', body, re.DOTALL).group(0)
    assert table.count("<tr data-organization=") == 2 and "Dinas Kesehatan" in table
    assert set(_options(body, "opd-task-close-organization")) == {dinkes["id"], didik["id"]}

    app = make_app()
    app.set_session_user(dinkes["admin"])
    body = app.get(url).body
    table = re.search(r'<table[^>]*id="opd-tasks".*?</table>', body, re.DOTALL).group(0)
    assert table.count("<tr data-organization=") == 1 and "Dinas Pendidikan" not in table
    assert 'id="opd-task-close"' not in body

    app = make_app()
    app.set_session_user("pemohon1")
    assert 'id="opd-tasks"' not in app.get(url).body

    app = make_app()
    app.set_session_user("staf1")
    app.post(f"{url}/tugas-opd/tutup", data={"organization": didik["id"], "reason": "Tidak perlu.",
                                             "version": str(shown["version"])})
    assert tasks(rid)[didik["id"]].status == "closed"
    after = act("staf1", "statrequest_show", id=rid)
    assert after["state"] == shown["state"]  # Dinas Kesehatan still asked
    events = act("staf1", "statrequest_event_list", id=rid)
    assert events[-1]["transition"] == opd_tasks.CLOSE_EVENT and events[-1]["note"] == "Tidak perlu."
    # a stale version changes nothing
    app.post(f"{url}/tugas-opd/tutup", data={"organization": dinkes["id"], "reason": "x",
                                             "version": str(shown["version"])})
    assert tasks(rid)[dinkes["id"]].status == "asked"


# --- follow-ups: the extension moves the tasks' deadlines; a re-ask names its OPD; public figures --

def _step(predicate) -> str:
    """The one transition of the workflow matching `predicate` (codes read from the YAML)."""
    (name,) = [t.name for t in settings.workflow().transitions.values() if predicate(t)]
    return name


def _extension_from(state: str) -> str:
    return _step(lambda t: bool(t.extend_days) and state in t.sources)


def _reask_from(state: str) -> str:
    wf = settings.workflow()
    return _step(lambda t: state in t.sources and opd_tasks.reasks(t, wf, state))


@pytest.mark.ckan_config("ckanext.statrequest.opd_task_days", "3")
def test_extension_moves_the_open_tasks_deadline_and_tells_that_opd(office, cli, mailbox, queue):
    dinkes, didik = office.opd["dinas-kesehatan"], office.opd["dinas-pendidikan"]
    with freeze_time(SUBMITTED):
        rid = walk(office, submit()["id"], "tugaskan_staf")
        waiting = fire("staf1", rid, "teruskan_ke_opd", opd=[dinkes["id"], didik["id"]])["state"]
    mails(mailbox, queue)
    with freeze_time(TUESDAY):
        fire(dinkes["admin"], rid, "unggah_hasil", result=upload("nakes.csv", RESULT_CSV))
    extension = _extension_from(waiting)
    (extender,) = [n for n, code in office.staff.items()
                   if code == settings.workflow().transitions[extension].actor]
    before = act("staf1", "statrequest_show", id=rid)
    assert check(cli, THURSDAY_8) == (1, 0)  # reminded of Thursday's date
    assert mails(mailbox, queue) == {didik["admin"]: ["opd_task_reminder"]}
    with freeze_time("2026-02-05 01:30:00"):  # Thursday 8:30 WIB
        after = fire(extender, rid, extension, note="Data dari dua OPD perlu dihimpun.")
    assert after["state"] == waiting and after["sla_due_at"] > before["sla_due_at"]
    got = tasks(rid)
    # Thursday 5th 16:00 WIB + 7 working days = Monday 16th 16:00 WIB (Imlek is the 17th)
    moved = dt.datetime(2026, 2, 16, 9, 0, tzinfo=dt.timezone.utc)
    assert got[didik["id"]].due == moved
    assert got[dinkes["id"]].due == TASK_DUE  # answered: its date stays
    assert moved <= dt.datetime.fromisoformat(after["sla_due_at"])
    # the OPD whose task moved is mailed its new date (whatever notify.officials says)
    work(queue)
    by_email = {u.email: u.name for u in model.Session.scalars(select(model.User))}
    told = [(by_email.get(str(m["To"].addresses[0].addr_spec)), m) for m in mailbox.take()
            if m["X-Statrequest-Kind"] == "opd_task_extended"]
    assert [name for name, _m in told] == [didik["admin"]]
    text = told[0][1].get_body(("plain",)).get_content()
    assert "16 Februari 2026" in text and "5 Februari 2026" in text and "7 hari kerja" in text
    assert "Data dari dua OPD" in text
    event = act("staf1", "statrequest_event_list", id=rid)[-1]
    assert {k: dt.datetime.fromisoformat(v) for k, v in event["data"]["opd_task_due"].items()} \
        == {didik["id"]: moved}
    # reminded and escalated afresh against the new date
    assert check(cli, FRIDAY_8) == (0, 0)
    assert check(cli, "2026-02-16 01:00:00") == (1, 0)  # Monday 16th 8:00 WIB
    # Wednesday 18th (the 17th is Imlek, no checks): past its date, staff and superior told
    assert check(cli, "2026-02-18 01:00:00") == (0, 2)



@pytest.mark.ckan_config("ckanext.statrequest.opd_task_days", "30")
def test_extended_task_deadline_stays_inside_the_requests(office):
    dinkes = office.opd["dinas-kesehatan"]
    with freeze_time(SUBMITTED):
        rid = walk(office, submit()["id"], "tugaskan_staf")
        waiting = fire("staf1", rid, "teruskan_ke_opd", opd=[dinkes["id"]])["state"]
        shown = act("staf1", "statrequest_show", id=rid)
        assert tasks(rid)[dinkes["id"]].due == dt.datetime.fromisoformat(shown["sla_due_at"])
        extension = _extension_from(waiting)
        (extender,) = [n for n, code in office.staff.items()
                       if code == settings.workflow().transitions[extension].actor]
        after = fire(extender, rid, extension, note="Perlu waktu.")
    assert tasks(rid)[dinkes["id"]].due == dt.datetime.fromisoformat(after["sla_due_at"])


def _checked(office) -> tuple[str, dict, dict, dict, str]:
    """A request routed to Dinas Kesehatan (answers with a file) and Dinas Pendidikan (no
    data), now with staff checking the results; Dinas Pertanian was never asked."""
    dinkes, didik, tani = (office.opd[s] for s in ("dinas-kesehatan", "dinas-pendidikan",
                                                   "dinas-pertanian"))
    rid = walk(office, submit()["id"], "tugaskan_staf")
    waiting = fire("staf1", rid, "teruskan_ke_opd", opd=[dinkes["id"], didik["id"]])["state"]
    fire(dinkes["admin"], rid, "unggah_hasil", result=upload("nakes.csv", RESULT_CSV))
    checking = fire(didik["admin"], rid, "data_tidak_tersedia", note="Tidak ada.")["state"]
    assert checking != waiting
    return rid, dinkes, didik, tani, checking


def test_results_do_not_match_asks_again_only_the_opd_concerned(office):
    rid, dinkes, didik, tani, checking = _checked(office)
    reask = _reask_from(checking)
    answered_at = tasks(rid)[dinkes["id"]].answered_at
    # forged or foreign OPD: a clear error, nothing changed
    version = act("staf1", "statrequest_show", id=rid)["version"]
    for forged, says in (([tani["id"]], "not sent to that agency"),
                         (["no-such-organisation"], "not found")):
        with pytest.raises(tk.ValidationError, match=says) as exc:
            fire("staf1", rid, reask, note="Tidak sesuai.", opd=forged)
        assert "opd" in exc.value.error_dict
        after = act("staf1", "statrequest_show", id=rid)
        assert (after["state"], after["version"]) == (checking, version)
        assert {k: t.status for k, t in tasks(rid).items()} == {
            dinkes["id"]: "answered", didik["id"]: "no_data"}
    # default: the OPD whose answer was checked; the one without data keeps its status
    waiting = fire("staf1", rid, reask, note="Angka tidak sesuai.")["state"]
    got = tasks(rid)
    assert (got[dinkes["id"]].status, got[didik["id"]].status) == ("asked", "no_data")
    assert got[dinkes["id"]].answered_at is None and got[dinkes["id"]].due is not None
    assert act("staf1", "statrequest_event_list", id=rid)[-1]["data"]["opd_reasked"] == [dinkes["id"]]
    assert act(didik["admin"], "statrequest_list", waiting_for_me=True)["count"] == 0
    assert act(dinkes["admin"], "statrequest_list", waiting_for_me=True)["count"] == 1
    with pytest.raises(tk.ValidationError):  # Dinas Pendidikan was not asked again
        fire(didik["admin"], rid, "data_tidak_tersedia", note="x")
    # the one asked again answers: the request is back with staff at once
    assert fire(dinkes["admin"], rid, "unggah_hasil",
                result=upload("nakes.csv", RESULT_CSV))["state"] == checking
    assert tasks(rid)[dinkes["id"]].answered_at != answered_at
    # staff may name another one explicitly: only that one is asked
    assert fire("staf1", rid, reask, note="Mohon dicek.", opd=[didik["id"]])["state"] == waiting
    got = tasks(rid)
    assert (got[dinkes["id"]].status, got[didik["id"]].status) == ("answered", "asked")


def test_results_do_not_match_form_on_the_check_page(office, make_app):
    rid, dinkes, didik, tani, checking = _checked(office)
    reask = _reask_from(checking)
    shown = act("staf1", "statrequest_show", id=rid)
    url = f"/permintaan-data/{shown['tracking_number']}"
    app = make_app()
    app.set_session_user("staf1")
    body = app.get(url).body
    form = re.search(rf'<form[^>]*data-transition="{reask}".*?</form>', body, re.DOTALL).group(0)
    boxes = dict(re.findall(r'<input class="form-check-input" type="checkbox" name="opd" '
                            r'value="([^"]+)"[^>]*?( checked)?>', form))
    assert boxes == {dinkes["id"]: " checked", didik["id"]: ""}
    assert 'name="csrf_token"' in form or "csrf" in form.lower()
    # a forged OPD: the error beside the boxes, nothing changed
    page = app.post(f"{url}/aksi", data={"transition": reask, "version": str(shown["version"]),
                                          "note": "Tidak sesuai.", "opd": [tani["id"]]})
    assert "not sent to that agency" in page.body or "tidak diteruskan" in page.body.lower() \
        or 'id="opd-error"' in page.body
    assert act("staf1", "statrequest_show", id=rid)["version"] == shown["version"]
    # the boxes as posted: Dinas Pendidikan only
    app.post(f"{url}/aksi", data={"transition": reask, "version": str(shown["version"]),
                                  "note": "Mohon dicek ulang.", "opd": [didik["id"]]})
    got = tasks(rid)
    assert (got[dinkes["id"]].status, got[didik["id"]].status) == ("answered", "asked")


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", True)
def test_results_do_not_match_without_csrf_token_is_refused(office, make_app):
    rid, _dinkes, didik, _tani, checking = _checked(office)
    shown = act("staf1", "statrequest_show", id=rid)
    app = make_app()
    app.set_session_user("staf1")
    app.post(f"/permintaan-data/{shown['tracking_number']}/aksi", status=400, data={
        "transition": _reask_from(checking), "version": str(shown["version"]), "note": "x",
        "opd": [didik["id"]]})
    assert act("staf1", "statrequest_show", id=rid)["version"] == shown["version"]


@pytest.mark.ckan_config("ckanext.statrequest.opd_task_days", "3")
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_transparency_page_shows_the_figures_per_opd(office, make_app, prefix):
    dinkes, didik = office.opd["dinas-kesehatan"], office.opd["dinas-pendidikan"]
    with freeze_time(SUBMITTED):
        rid = walk(office, submit()["id"], "tugaskan_staf")
        fire("staf1", rid, "teruskan_ke_opd", opd=[dinkes["id"], didik["id"]])
    with freeze_time(TUESDAY):  # one working day
        fire(dinkes["admin"], rid, "unggah_hasil", result=upload("nakes.csv", RESULT_CSV))
    with freeze_time(WEDNESDAY):  # two working days, no data
        fire(didik["admin"], rid, "data_tidak_tersedia", note="Tidak ada.")
    with freeze_time(FRIDAY_9):
        public = act(None, "statrequest_stats_public")["opd_tasks"]
        body = make_app().get(prefix + "/permintaan-data/transparansi").body
    assert [(r["title"], r["tasks"], r["on_time_share"], r["median_answer_days"], r["no_data_share"])
            for r in public] == [("Dinas Kesehatan", 1, 1.0, 1.0, 0.0),
                                 ("Dinas Pendidikan", 1, 1.0, 2.0, 1.0)]
    assert not {"answered", "closed", "overdue", "open"} & set(public[0])
    section = re.search(r'<section[^>]*id="stats-opd-public".*?</section>', body, re.DOTALL).group(0)
    cells = {org: re.findall(r"<td[^>]*>([^<]*)</td>", row) for org, row in re.findall(
        r'<tr data-organization="([^"]+)">(.*?)</tr>', section, re.DOTALL)}
    decimal = "1.00" if prefix else "1,00"
    assert cells[dinkes["id"]] == ["Dinas Kesehatan", "1", "100%", decimal, "0%"]
    assert cells[didik["id"]][3:] == [decimal.replace("1", "2"), "100%"]
    heading = "Requests asked" if prefix else "Permintaan"
    assert heading in section
    assert "pemohon1" not in section and "Pemohon1" not in section


def test_a_request_routed_without_a_task_gets_one_when_it_comes_back_to_the_opd(office):
    """A request whose routing asked no task (routed before tasks existed, or by a step into
    a state where no OPD answers) is no longer found by a "has no task at all" rule: that
    rule made every OPD inbox read all the OPD's links. When the request comes back to the
    OPD, every OPD it was routed to is asked, and it is in their inbox again."""
    from sqlalchemy import delete

    dinkes = office.opd["dinas-kesehatan"]
    rid = walk(office, submit()["id"], "tugaskan_staf")
    fire("staf1", rid, "teruskan_ke_opd", opd=[dinkes["id"]])
    model.Session.execute(delete(OpdTask).where(OpdTask.request_id == rid))
    model.Session.commit()
    assert act(dinkes["admin"], "statrequest_list", waiting_for_me=True)["count"] == 0
    # the OPD may still answer it (nothing to settle), and the staff send it back
    fire(dinkes["admin"], rid, "unggah_hasil", result=upload("nakes.csv", RESULT_CSV))
    fire("staf1", rid, "hasil_tidak_sesuai", note="Mohon dicek ulang.")
    assert {org: t.status for org, t in tasks(rid).items()} == {dinkes["id"]: "asked"}
    inbox = act(dinkes["admin"], "statrequest_list", waiting_for_me=True)
    assert [r["id"] for r in inbox["results"]] == [rid]
