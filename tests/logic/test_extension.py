"""The deadline extension (perpanjangan, UU 14/2008 Pasal 22): a transition of the workflow
file (`to: same`, `extend_days`) that the Section Head fires once, with the reason the
requester is told by mail; the deadline moves by working days, holidays and weekends skipped,
and stays moved when the holiday list changes; statistics judge "on time" against it."""
from __future__ import annotations

import datetime as dt

import ckan.model as model
import ckantoolkit as tk
import pytest
from freezegun import freeze_time
from sqlalchemy import func, select
from support import act, fire, submit, walk, work

from ckanext.statrequest import settings
from ckanext.statrequest.lib import notifications
from ckanext.statrequest.model import Event, Notification, Request
from ckanext.statrequest.model import now as model_now

pytestmark = pytest.mark.usefixtures("with_plugins", "with_test_worker")

REASON = "Data dari Dinas Kesehatan masih direkap per puskesmas."
REQUESTER_EMAIL = "dewi@example.test"  # support.request_data()


def extension() -> str:
    """The extension's transition name, read from the workflow (not written here)."""
    return next(t.name for t in settings.workflow().transitions.values() if t.extend_days)


def extender() -> str:
    """The test user holding the position that may extend (support.POSITIONS)."""
    from support import POSITIONS

    actor = settings.workflow().transitions[extension()].actor
    return next(user for user, position in POSITIONS.items() if position == actor)


def snapshot(rid: str) -> tuple:
    model.Session.remove()
    r = model.Session.get(Request, rid)
    events = model.Session.scalar(select(func.count()).select_from(Event)
                                  .where(Event.request_id == rid))
    mails = model.Session.scalar(select(func.count()).select_from(Notification))
    return r.version, r.state, r.sla_due_at, r.extension_days, events, mails


def test_the_deadline_moves_seven_working_days_past_weekend_and_holidays_once(
        office, mailbox, queue):
    # 24 Dec 2026 cuti bersama (added here), 25 Dec Christmas, 1 Jan New Year: all skipped
    act(office.sysadmin, "statrequest_holiday_create", day="2026-12-24",
        name="Cuti Bersama Natal", kind="cuti_bersama")
    with freeze_time("2026-12-14 03:00:00"):  # Monday 10:00 WIB
        rid = submit()["id"]
        walk(office, rid, "teruskan_ke_opd")
        state = act("kasi", "statrequest_show", id=rid)["state"]
        before = act("kasi", "statrequest_show", id=rid)["sla_due_at"]
        assert before.startswith("2026-12-21T16:00")  # day 0 + 5 working days
    with freeze_time("2026-12-15 03:00:00"):
        offered = [t["name"] for t in act(extender(), "statrequest_available_transitions",
                                          id=rid)]
        assert extension() in offered
        with pytest.raises(tk.ValidationError) as err:  # the reason is required
            fire(extender(), rid, extension())
        assert "note" in err.value.error_dict
        moved = fire(extender(), rid, extension(), note=REASON)
    # Tue 22, Wed 23, (24, 25 holidays, 26-27 weekend) Mon 28, 29, 30, 31, (1 Jan, 2-3) 4 Jan
    assert moved["sla_due_at"].startswith("2027-01-04T16:00")
    assert moved["state"] == state  # the request stays where it was
    assert extension() not in [t["name"] for t in act(extender(), "statrequest_available_transitions",
                                                      id=rid)]

    # the timeline shows both deadlines, to the requester too
    for user in ("pemohon1", "sekretaris"):
        (event,) = [e for e in act(user, "statrequest_event_list", id=rid)
                    if e["transition"] == extension()]
        assert event["note"] == REASON and event["extension"]["days"] == 7
        assert event["extension"]["due_before"].startswith("2026-12-21T16:00")
        assert event["extension"]["due_after"].startswith("2027-01-04T16:00")

    # the requester's mail: the reason, the old and the new deadline
    work(queue)
    mails = [m for m in mailbox.take() if m["To"].addresses[0].addr_spec == REQUESTER_EMAIL]
    (mail,) = [m for m in mails if m["X-Statrequest-Kind"] == "extended"]
    text = mail.get_body(("plain",)).get_content()
    new_due = model.Session.get(Request, rid).sla_due_at
    assert REASON in text
    assert notifications.when(new_due, "id") in text  # Senin, 4 Januari 2027, 16.00 WIB
    assert "21 Desember 2026" in text and "diperpanjang" in mail["Subject"]
    # the Section Head's step tells no official to act: they already hold the request
    assert not [m for m in mails if m["X-Statrequest-Kind"] == "action_needed"]

    # a second extension: refused, nothing written
    before_second = snapshot(rid)
    with pytest.raises(tk.ValidationError) as err:
        fire(extender(), rid, extension(), note="Sekali lagi.")
    assert "sudah pernah diperpanjang" in str(err.value.error_dict["transition"]) or \
        "already extended" in str(err.value.error_dict["transition"])
    assert snapshot(rid) == before_second

    # the extension holds when the holiday list changes (every due date is recomputed)
    act(office.sysadmin, "statrequest_holiday_create", day="2026-12-30",
        name="Hari Jadi Kabupaten", kind="libur_daerah")
    # (one working day fewer before 4 Jan; 5 Jan 2027 is Isra Mikraj: Wednesday 6 Jan)
    assert act("kasi", "statrequest_show", id=rid)["sla_due_at"].startswith("2027-01-06T16:00")


def test_only_the_position_of_the_workflow_may_extend_and_only_where_the_clock_runs(office):
    rid = submit()["id"]
    with pytest.raises(tk.ValidationError):  # diajukan: not a state it is offered in
        fire(extender(), rid, extension(), note=REASON)
    walk(office, rid, "teruskan_ke_opd")
    before = snapshot(rid)
    for user in ("staf1", "sekretaris", "pemohon1", "admin-kesehatan"):
        with pytest.raises(tk.NotAuthorized):
            fire(user, rid, extension(), note=REASON)
    with pytest.raises(tk.NotAuthorized):  # a stranger cannot even see it
        fire("pemohon2", rid, extension(), note=REASON)
    with pytest.raises(tk.ValidationError):  # a stale version: somebody acted first
        act(extender(), "statrequest_transition", id=rid, transition=extension(),
            version=before[0] - 1, note=REASON)
    assert snapshot(rid) == before


def received_working_days_ago(rid: str, days: int) -> None:
    """Move the request's receipt back to the opening of the `days`-th working day before
    today, as if it had come in then (its steps keep their real times)."""
    calendar = settings.calendar()
    day = calendar.localize(model_now()).date()
    for _ in range(days):
        day -= dt.timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= dt.timedelta(days=1)
    row = model.Session.get(Request, rid)
    row.received_at = calendar.effective_start(
        dt.datetime.combine(day, dt.time(0, 0), tzinfo=calendar.tz))
    model.Session.commit()


def test_statistics_judge_on_time_against_the_extended_deadline(office):
    """Finished eight working days after receipt: late against the five working days, on
    time within an extension of seven; counted as extended, and the export says by how much."""
    extended, plain = submit()["id"], submit(title="Data tanpa perpanjangan")["id"]
    walk(office, extended, "teruskan_ke_opd")
    fire(extender(), extended, extension(), note=REASON)
    walk_rest(office, extended)
    walk(office, plain, "tandatangani")
    for rid in (extended, plain):
        received_working_days_ago(rid, 8)
    year = settings.calendar().localize(model.Session.get(Request, plain).received_at).year
    figures = act("sekretaris", "statrequest_stats", year=year)
    assert figures["extended"] == 1
    assert figures["compliance"]["finished"] == 2 and figures["compliance"]["on_time"] == 1
    export = act("sekretaris", "statrequest_stats_export", year=year)
    rows = {row[0]: dict(zip(export["columns"], row, strict=True)) for row in export["rows"]}
    number = {rid: model.Session.get(Request, rid).tracking_number for rid in (extended, plain)}
    assert (rows[number[extended]]["extension_days"], rows[number[extended]]["on_time"]) == \
        (7, True)
    assert (rows[number[plain]]["extension_days"], rows[number[plain]]["on_time"]) == (0, False)


def walk_rest(office, rid: str) -> None:
    """From `menunggu_opd` to the signed reply (support.walk's later steps)."""
    from support import PASSPHRASE, RESULT_CSV, RESULT_NAME, upload

    dinkes = office.opd["dinas-kesehatan"]
    fire(dinkes["admin"], rid, "unggah_hasil", result=upload(RESULT_NAME, RESULT_CSV))
    fire("staf1", rid, "hasil_sesuai", outcome="dipenuhi", note="Data sesuai.")
    fire("kasi", rid, "teruskan_ke_kabid")
    fire("kabid", rid, "paraf_kabid", passphrase=PASSPHRASE)
    fire("sekretaris", rid, "paraf_sekretaris", passphrase=PASSPHRASE)
    fire("kadis", rid, "tandatangani", passphrase=PASSPHRASE)


def test_a_workflow_without_the_extension_offers_none(office, tmp_path, ckan_config,
                                                      monkeypatch):
    import yaml

    from ckanext.statrequest.core.workflow import DEFAULT_PATH

    data = yaml.safe_load(DEFAULT_PATH.read_text())
    data["transitions"] = [t for t in data["transitions"] if not t.get("extend_days")]
    path = tmp_path / "tanpa-perpanjangan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    name = extension()
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.workflow_file", str(path))
    rid = submit()["id"]
    walk(office, rid, "teruskan_ke_opd")
    assert name not in [t["name"] for t in act("kasi", "statrequest_available_transitions",
                                               id=rid)]
    with pytest.raises(tk.ValidationError):
        fire("kasi", rid, name, note=REASON)
