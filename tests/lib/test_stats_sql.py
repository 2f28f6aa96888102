"""The statistics aggregated by the database (lib/stats_sql.py) are exactly those of the plain
Python computation (lib/stats.summarize over the loaded event logs).

A seeded mix of requests: random walks through the loaded workflow (every state, pauses,
withdrawals, extensions, decisions with and without reasons, objection steps), routed to one
or more OPD, received at any hour (nights, weekends) over two years with administrator
holidays and a working Saturday, and two requests without events.
"""
from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import ckan.model as model
import pytest
import sqlalchemy as sa
from support import act

from ckanext.statrequest import settings
from ckanext.statrequest.core import vocabulary
from ckanext.statrequest.lib import stats, stats_sql
from ckanext.statrequest.model import Event, Request
from ckanext.statrequest.model.office import Holiday

pytestmark = pytest.mark.usefixtures("with_plugins")

WIB = ZoneInfo("Asia/Jakarta")
REASONS = ["dikecualikan", "tidak_dikuasai", "belum_tersedia", None]


def _walk(rnd: random.Random, wf, start: dt.datetime, opd_ids: list[str]):
    """(transition, from, to, time, data) of one request's log, a random walk."""
    state, at = wf.initial, start
    steps = [("ajukan", None, state, at, {})]
    order = {name: i for i, name in enumerate(wf.states)}
    for _ in range(rnd.choice([rnd.randint(0, 8), 40])):
        choices = [t for t in wf.transitions.values() if state in t.sources]
        if not choices or wf.is_final(state):
            break
        # mostly forward, so that many requests finish
        t = rnd.choices(choices, weights=[
            4 if order.get(t.target_of(state), 0) > order[state] else 1 for t in choices])[0]
        at = at + dt.timedelta(days=rnd.choice([0.02, 0.3, 0.9, 1.7, 4.2, 9.5]) * rnd.random())
        data: dict = {}
        if t.extend_days or rnd.random() < 0.03:
            data["extension_days"] = t.extend_days or rnd.randint(1, 7)
        if t.outcome or rnd.random() < 0.1:
            data["outcome"] = t.outcome or rnd.choice(
                ["dipenuhi", *vocabulary.OUTCOMES_WITH_REASON])
            reason = rnd.choice(REASONS)
            if reason:
                data["reason"] = reason
        if rnd.random() < 0.15:
            data["opd"] = rnd.sample(opd_ids, rnd.randint(1, len(opd_ids)))
        target = t.target_of(state)
        steps.append((t.name, state, target, at, data))
        state = target
    return steps


def seed_mix(office, n: int = 200, seed: int = 16) -> None:
    rnd = random.Random(seed)
    wf = settings.workflow()
    opd_ids = [o["id"] for o in office.opd.values()]
    for day, kind in ((dt.date(2025, 8, 18), "libur_daerah"), (dt.date(2025, 12, 24), "cuti_bersama"),
                      (dt.date(2026, 3, 20), "libur_lain"), (dt.date(2026, 4, 11), "hari_kerja"),
                      (dt.date(2026, 6, 1), "libur_daerah")):
        model.Session.add(Holiday(day=day, name="Uji", kind=kind))
    requester = model.User.get("pemohon1").id
    first = dt.datetime(2025, 6, 1, tzinfo=WIB)
    for i in range(n + 2):
        received = first + dt.timedelta(minutes=rnd.randint(0, 60 * 24 * 540))
        request = Request(
            tracking_number=f"PDS-{received.year}-{i + 1:05d}", requester_id=requester,
            requester_name="Pemohon", identity_type="nik", identity_number="6104012345678901",
            institution="", category=rnd.choice(["masyarakat_umum", "instansi_pemerintah",
                                                 "dunia_usaha"]),
            email="p@example.test", phone="0812", address="Jl. Merdeka 1", title=f"Data {i}",
            description="Uji.", purpose="Penelitian", state=wf.initial, received_at=received,
            created_at=received, updated_at=received, version=1, sla_pauses=[])
        model.Session.add(request)
        model.Session.flush()
        if i >= n:
            continue  # requests without events (state None): counted in the total only
        for version, (name, source, target, at, data) in enumerate(
                _walk(rnd, wf, received, opd_ids), 1):
            model.Session.add(Event(request_id=request.id, actor_role="pemohon",
                                    transition=name, from_state=source, to_state=target,
                                    visibility="public", data=data, version=version,
                                    created_at=at))
            model.Session.flush()
    model.Session.commit()


def _wheres():
    def day(y, m, d):
        return dt.datetime(y, m, d, tzinfo=WIB)

    return {
        "all": [],
        "2025": [Request.received_at >= day(2025, 1, 1), Request.received_at < day(2026, 1, 1)],
        "2026": [Request.received_at >= day(2026, 1, 1), Request.received_at < day(2027, 1, 1)],
        "feb-2026": [Request.received_at >= day(2026, 2, 1), Request.received_at < day(2026, 3, 1)],
        "q3-2025": [Request.received_at >= day(2025, 7, 1), Request.received_at < day(2025, 10, 1)],
        "empty": [Request.received_at >= day(2030, 1, 1)],
    }


def _python(where):
    rules = stats.rules_for(settings.workflow(), settings.sla_days())
    return stats.summarize(stats.load(*where), settings.calendar(), rules)


def _sql(where):
    calendar = settings.calendar()
    rules = stats.rules_for(settings.workflow(), settings.sla_days())
    stats_sql.refresh(model.Session, calendar, rules)
    return stats_sql.summarize(model.Session, where, calendar, rules)


@pytest.mark.parametrize("seed", [16, 2026, 7])
def test_sql_figures_equal_the_python_computation(office, seed):
    seed_mix(office, seed=seed)
    checked = 0
    for name, where in _wheres().items():
        expected = _python(where)
        assert _sql(where) == expected, name
        checked += expected["total"]
    assert checked > 300  # the periods are not empty
    everything = _python([])
    # the mix covers what the figures distinguish
    assert everything["finished"] > 20 and everything["withdrawn"] > 5
    assert everything["open"] > 20 and everything["extended"] > 3
    assert everything["compliance"]["late"] > 0 and everything["compliance"]["on_time"] > 0
    assert len(everything["by_reason"]) >= 2 and len(everything["steps"]) > 8
    assert any(row["state"] in stats.rules_for(settings.workflow(), 5).paused
               for row in everything["steps"])


def _bare(value):
    """The action's figures without the labels and titles it adds for display."""
    if isinstance(value, list):
        return [{k: v for k, v in row.items() if k not in ("label", "title")}
                if isinstance(row, dict) else row for row in value]
    return value


def test_kept_figures_follow_new_events_and_new_holidays(office):
    seed_mix(office, n=60, seed=7)
    period = {"year": 2026}
    before = act("sekretaris", "statrequest_stats", **period)
    assert act("sekretaris", "statrequest_stats", **period) == before  # from the summary
    # a new event on an open request changes the figures at the next reading
    wf = settings.workflow()
    where = [Request.received_at >= dt.datetime(2026, 1, 1, tzinfo=WIB),
             Request.received_at < dt.datetime(2027, 1, 1, tzinfo=WIB)]
    history = next(h for h in stats.load(*where)
                   if h.state and not wf.is_final(h.state)
                   and any(h.state in t.sources and t.target in wf.final
                           for t in wf.transitions.values()))
    t = next(t for t in wf.transitions.values()
             if history.state in t.sources and t.target in wf.final)
    model.Session.add(Event(request_id=history.request_id, actor_role="pemohon",
                            transition=t.name, from_state=history.state, to_state=t.target,
                            visibility="public", data={}, version=99,
                            created_at=history.steps[-1].at + dt.timedelta(hours=3)))
    model.Session.commit()
    after = act("sekretaris", "statrequest_stats", **period)
    assert after != before
    expected = _python(where)
    for key in expected:
        assert _bare(after[key]) == expected[key], key
    # a holiday added by the administrators changes the working days of every request
    model.Session.add(Holiday(day=dt.date(2026, 2, 3), name="Uji", kind="libur_daerah"))
    model.Session.commit()
    again = act("sekretaris", "statrequest_stats", **period)
    expected = _python(where)
    for key in expected:
        assert _bare(again[key]) == expected[key], key


def test_a_max_age_serves_kept_figures_after_new_events(office, ckan_config, monkeypatch):
    seed_mix(office, n=30, seed=3)
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.stats_max_age", 300)
    before = act("sekretaris", "statrequest_stats")
    request = model.Session.scalars(sa.select(Request.id).limit(1)).first()
    model.Session.add(Event(request_id=request, actor_role="pemohon", transition="batalkan",
                            from_state=None, to_state="dibatalkan", visibility="public",
                            data={}, version=99, created_at=dt.datetime.now(WIB)))
    model.Session.commit()
    assert act("sekretaris", "statrequest_stats") == before  # up to five minutes old
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.stats_max_age", 0)
    assert act("sekretaris", "statrequest_stats") != before  # exact again


def test_all_time_percentiles_from_the_index_equal_the_ranked_ones(office, monkeypatch):
    """All time, the percentiles are read from the ordered indexes (OFFSET, #16); if the rows
    change between the count and the read, the window ranking is used: both equal Python."""
    seed_mix(office, n=120, seed=11)
    assert _sql([]) == _python([])
    # the fallback: as if a refresh had committed between the count and the reads
    monkeypatch.setattr(stats_sql, "_percentiles_indexed", lambda *a, **k: None)
    assert _sql([]) == _python([])


# --- a slow period: kept figures while a background job recomputes them (#16, round 9) ------

@pytest.fixture
def stats_queue():
    """CKAN's default queue (the recomputation's), emptied before and after; no leftover
    'queued' mark of an earlier test."""
    import ckantoolkit as tk

    queue = tk.get_job_queue()
    queue.empty()
    queue.connection.delete(stats_sql._mark(stats_sql.ALL_TIME))
    yield queue
    queue.empty()
    queue.connection.delete(stats_sql._mark(stats_sql.ALL_TIME))


def _new_event() -> None:
    """One more step in the log: a request just submitted is withdrawn now."""
    request = model.Session.scalars(
        sa.select(stats_sql.PER_REQUEST.c.request_id).where(
            stats_sql.PER_REQUEST.c.state == "diajukan")
        .order_by(stats_sql.PER_REQUEST.c.request_id).limit(1)).first()
    model.Session.add(Event(request_id=request, actor_role="pemohon", transition="batalkan",
                            from_state="diajukan", to_state="dibatalkan", visibility="public",
                            data={}, version=99, created_at=dt.datetime.now(WIB)))
    model.Session.commit()


def _make_slow(period: str = stats_sql.ALL_TIME, seconds: float = 61.0) -> None:
    """As if the last computation of `period` had taken a minute (all time at 1M requests)."""
    model.Session.execute(sa.update(stats_sql.SUMMARY).where(
        stats_sql.SUMMARY.c.period == period).values(seconds=seconds))
    model.Session.commit()


def _without_freshness(result):
    return {k: v for k, v in result.items() if k not in ("computed_at", "pending")}


def test_a_slow_period_serves_the_kept_figures_and_queues_one_job(office, stats_queue):
    from support import work

    seed_mix(office, n=40, seed=5)
    before = act("sekretaris", "statrequest_stats")
    assert before["pending"] is False and before["computed_at"]
    _make_slow()
    _new_event()
    # every reader after the event: at once, the kept figures (dated, marked pending) ...
    readings = [act("sekretaris", "statrequest_stats") for _ in range(3)]
    public = act("pemohon1", "statrequest_stats_public")
    for reading in readings:
        assert reading["pending"] is True and reading["computed_at"] == before["computed_at"]
        assert _without_freshness(reading) == _without_freshness(before)
    assert public["pending"] is True and public["total"] == before["total"]
    # ... and exactly one recomputation queued, whoever read
    assert stats_queue.get_job_ids() == [stats_sql.job_id(stats_sql.ALL_TIME)]
    work("default")
    after = act("sekretaris", "statrequest_stats")
    assert after["pending"] is False and after["computed_at"] > before["computed_at"]
    expected = _python([])
    for key in expected:
        assert _bare(after[key]) == expected[key], key
    assert after["withdrawn"] == before["withdrawn"] + 1
    # the job released its mark: the next event queues the next recomputation
    _make_slow()
    _new_event()
    assert act("sekretaris", "statrequest_stats")["pending"] is True
    assert stats_queue.get_job_ids() == [stats_sql.job_id(stats_sql.ALL_TIME)]


def test_new_rules_on_a_slow_period_are_counted_in_the_background(office, stats_queue):
    """A holiday added recomputes every request (most of an hour at a million): a slow
    period's readers get the kept figures at once and the job applies the new rules."""
    from support import work

    seed_mix(office, n=40, seed=6)
    before = act("sekretaris", "statrequest_stats")
    _make_slow()
    model.Session.add(Holiday(day=dt.date(2026, 2, 3), name="Uji", kind="libur_daerah"))
    model.Session.commit()
    reading = act("sekretaris", "statrequest_stats")
    assert reading["pending"] is True and reading["computed_at"] == before["computed_at"]
    assert stats_queue.get_job_ids() == [stats_sql.job_id(stats_sql.ALL_TIME)]
    work("default")
    after = act("sekretaris", "statrequest_stats")
    assert after["pending"] is False
    expected = _python([])
    for key in expected:
        assert _bare(after[key]) == expected[key], key


def test_a_fast_period_is_exact_at_once(office, stats_queue):
    seed_mix(office, n=30, seed=8)
    before = act("sekretaris", "statrequest_stats")
    _make_slow(seconds=0.2)  # under SLOW_SECONDS: recomputed in the reader's request
    _new_event()
    after = act("sekretaris", "statrequest_stats")
    assert after["pending"] is False and after != before
    expected = _python([])
    for key in expected:
        assert _bare(after[key]) == expected[key], key
    assert stats_queue.get_job_ids() == []


def test_the_cron_command_recomputes_the_slow_periods(office, stats_queue):
    from click.testing import CliRunner

    from ckanext.statrequest.commands.stats import stats_refresh

    seed_mix(office, n=30, seed=9)
    act("sekretaris", "statrequest_stats", year=2026)  # a fast period: left to its readers
    act("sekretaris", "statrequest_stats")
    _make_slow()
    _new_event()
    model.Session.remove()
    out = CliRunner().invoke(stats_refresh, [])
    assert out.exit_code == 0, out.output
    assert "1 period(s) recomputed" in out.output
    row = model.Session.execute(sa.select(stats_sql.SUMMARY).where(
        stats_sql.SUMMARY.c.period == stats_sql.ALL_TIME)).one()
    assert row.watermark == model.Session.scalar(sa.select(sa.func.max(Event.id)))
    assert _bare(row.figures["by_state"]) == _python([])["by_state"]
    assert stats_queue.get_job_ids() == []  # the command computes, it queues nothing


def test_concurrent_first_readers_compute_once(office, monkeypatch):
    """Readers of a period nobody computed yet wait for the first one's computation (an
    advisory lock per period) instead of each computing it."""
    import threading

    seed_mix(office, n=30, seed=4)
    calendar = settings.calendar()
    rules = stats.rules_for(settings.workflow(), settings.sla_days())
    stats_sql.refresh(model.Session, calendar, rules)
    model.Session.remove()
    calls = []
    original = stats_sql.summarize

    def slow_summarize(*args, **kwargs):
        calls.append(1)
        import time
        time.sleep(1.0)  # long enough for the other readers to arrive meanwhile
        return original(*args, **kwargs)

    monkeypatch.setattr(stats_sql, "summarize", slow_summarize)
    results, errors = [], []

    def reader():
        try:
            results.append(stats_sql.figures(model.Session, [], stats_sql.ALL_TIME, calendar,
                                             rules))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            model.Session.remove()

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 3
    assert len(calls) == 1
    assert all(r == results[0] for r in results)


def test_a_refresh_recomputes_only_the_requests_whose_events_changed(office, monkeypatch):
    """Not every request of the last LOOKBACK events: the ones with a new event, or with one
    committed after a refresh that saw a later event id (#16, round 9)."""
    seed_mix(office, n=40, seed=12)
    calendar = settings.calendar()
    rules = stats.rules_for(settings.workflow(), settings.sla_days())
    stats_sql.refresh(model.Session, calendar, rules)
    recomputed = []
    original = stats_sql._recompute

    def spy(session, ids, *args):
        recomputed.append(sorted(ids))
        return original(session, ids, *args)

    monkeypatch.setattr(stats_sql, "_recompute", spy)
    _new_event()
    changed = model.Session.scalar(sa.select(Event.request_id).order_by(Event.id.desc()).limit(1))
    stats_sql.refresh(model.Session, calendar, rules)
    assert recomputed == [[changed]]
    # an event committed late: a refresh had already seen a later id
    request = model.Session.scalars(sa.select(stats_sql.PER_REQUEST.c.request_id).where(
        stats_sql.PER_REQUEST.c.state == "diajukan", stats_sql.PER_REQUEST.c.request_id != changed
    ).limit(1)).first()
    model.Session.add(Event(request_id=request, actor_role="pemohon", transition="batalkan",
                            from_state="diajukan", to_state="dibatalkan", visibility="public",
                            data={}, version=98, created_at=dt.datetime.now(WIB)))
    model.Session.commit()
    late = model.Session.scalar(sa.select(sa.func.max(Event.id)))
    model.Session.execute(sa.update(stats_sql.STATE).where(stats_sql.STATE.c.key == "watermark")
                          .values(value=str(late + 5)))
    model.Session.commit()
    recomputed.clear()
    stats_sql.refresh(model.Session, calendar, rules)
    assert recomputed == [[request]]
    assert stats_sql.summarize(model.Session, [], calendar, rules) == _python([])
