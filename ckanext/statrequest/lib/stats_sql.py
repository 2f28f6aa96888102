"""The statistics of lib/stats.py, aggregated by the database.

Same figures, same definitions (see lib/stats.py's docstring), computed in two layers:

1. Per request, the figures that need the working-day calendar (working days taken, on time
   under the extended and paused deadline, working days waited per state) are computed once by
   the very functions of lib/stats.py and kept in `statrequest_stats_request` and
   `statrequest_stats_wait`. They depend only on the request's event log (append-only) and on
   the rules (workflow, SLA days, office hours, holidays): `refresh()` recomputes the requests
   that got events since the last event it saw, and everything when the rules changed
   (their fingerprint is kept in `statrequest_stats_state`).
2. Over a period, `summarize()` aggregates those rows in SQL (COUNT … FILTER, GROUP BY,
   percentiles by rank) — no Python loop over requests. The percentiles are taken at the
   ranks of lib/stats.percentile (linear interpolation between the closest ranks) and the
   interpolation is done by the same float arithmetic, so the numbers are identical.

`figures()` keeps the result of a period in `statrequest_stats_summary` until the event log
(or the rules) change: reading the statistics page again costs three small queries. A period
whose last computation was slow (over SLOW_SECONDS: all time at a million requests takes about
a minute) is not recomputed in the reader's request when the log moves on: the kept figures
are returned with their `computed_at` and one background job per period (`recompute`, also
run by `ckan statrequest stats-refresh` from cron) brings them up to date. Fast periods stay
exact at every reading; concurrent readers of a period never compute it twice (an advisory
lock per period).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import math
import time
from collections.abc import Iterable, Sequence
from typing import Any

import ckantoolkit as tk
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert

from ckanext.statrequest.core.calendar import WorkingCalendar
from ckanext.statrequest.core.vocabulary import OUTCOMES_WITH_REASON
from ckanext.statrequest.lib import stats

log = logging.getLogger(__name__)
# in CKAN's metadata, so that the test database's reset empties them with the rest
_META = tk.BaseModel.metadata
PER_REQUEST = sa.Table(
    "statrequest_stats_request", _META,
    sa.Column("request_id", sa.UnicodeText, primary_key=True),
    sa.Column("last_event_id", sa.BigInteger),
    sa.Column("state", sa.UnicodeText),
    sa.Column("finished_at", sa.TIMESTAMP(timezone=True)),
    sa.Column("days", sa.Float(precision=53)),
    sa.Column("on_time", sa.Boolean),
    sa.Column("extension_days", sa.Integer),
    sa.Column("outcome", sa.UnicodeText),
    sa.Column("reason", sa.UnicodeText),
    sa.Column("opd", ARRAY(sa.UnicodeText)),
    sa.Column("steps", sa.Integer),  # the events the figures were computed from (0016)
)
WAITS = sa.Table(
    "statrequest_stats_wait", _META,
    sa.Column("request_id", sa.UnicodeText, primary_key=True),
    sa.Column("state", sa.UnicodeText, primary_key=True),
    sa.Column("days", sa.Float(precision=53)),
)
SUMMARY = sa.Table(
    "statrequest_stats_summary", _META,
    sa.Column("period", sa.UnicodeText, primary_key=True),
    sa.Column("fingerprint", sa.UnicodeText),
    sa.Column("watermark", sa.BigInteger),
    sa.Column("figures", JSONB),
    sa.Column("computed_at", sa.TIMESTAMP(timezone=True), server_default=sa.func.now()),
    sa.Column("seconds", sa.Float(precision=53)),  # how long its computation took (0016)
)
STATE = sa.Table(
    "statrequest_stats_state", _META,
    sa.Column("key", sa.UnicodeText, primary_key=True),
    sa.Column("value", sa.UnicodeText),
)

CHUNK = 2000
# Events are numbered when inserted but committed in any order: a refresh also looks at the
# last LOOKBACK events before the one it saw last, so one committed late is not missed.
LOOKBACK = 1000
_LOCK = 0x5747A7  # pg_advisory_xact_lock key: one refresh at a time
_SUMMARY_LOCK = 0x5747A8  # pg_advisory_xact_lock(key, hashtext(period)): one computation a period
PERCENTS = (50, 90)
# a period computed slower than this is recomputed in the background once the log moves on
SLOW_SECONDS = 1.0
# a queued recomputation not started within this time is queued again (a worker lost)
JOB_TTL = 15 * 60
ALL_TIME = json.dumps({"from": None, "to": None})  # the period key of all time
# kept figures are recomputed after this many seconds even without events: the per-OPD task
# figures count the tasks overdue *now*
FRESH_FOR = 3600


def fingerprint(calendar: WorkingCalendar, rules: stats.Rules,
                objection_steps: Iterable[str]) -> str:
    """What the per-request figures depend on besides the event log."""
    parts = [
        calendar.country, str(calendar.tz), calendar.office_start.isoformat(),
        calendar.office_end.isoformat(), ",".join(calendar.categories),
        ",".join(f"{d}" for d in sorted(calendar.extra_holidays)),
        ",".join(f"{d}" for d in sorted(calendar.extra_working_days)),
        ",".join(sorted(rules.completed)), ",".join(sorted(rules.final)),
        ",".join(sorted(rules.paused)), str(rules.sla_days), ",".join(sorted(objection_steps)),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _objection_steps() -> list[str]:
    from ckanext.statrequest import settings

    return sorted(t.name for t in settings.workflow().transitions.values() if t.objection)


def _last_event(session: Any) -> int:
    from ckanext.statrequest.model import Event

    return session.scalar(sa.select(sa.func.max(Event.id))) or 0


def _rows(history: stats.History, last_event: int, calendar: WorkingCalendar,
          rules: stats.Rules) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    done = stats.finished_at(history, rules)
    row = {
        "request_id": history.request_id, "last_event_id": last_event, "state": history.state,
        "finished_at": done,
        # as lib/stats.summarize counts them: a finished request's days, 0.0 if none
        "days": (stats.completion_days(history, calendar, rules) or 0.0) if done else None,
        "on_time": bool(stats.on_time(history, calendar, rules)) if done else None,
        "extension_days": history.extension_days, "outcome": history.outcome,
        "reason": history.reason, "opd": sorted(history.routed),
        "steps": len(history.steps),  # read in the same statement as the figures' events
    }
    waits = [{"request_id": history.request_id, "state": state, "days": days}
             for state, days in stats.state_waits(history, calendar).items()]
    return row, waits


def _recompute(session: Any, ids: Sequence[str], last_event: int, calendar: WorkingCalendar,
               rules: stats.Rules) -> None:
    from ckanext.statrequest.model import Request

    for i in range(0, len(ids), CHUNK):
        chunk = list(ids[i:i + CHUNK])
        rows, waits = [], []
        for history in stats.load(Request.id.in_(chunk)):
            row, wait = _rows(history, last_event, calendar, rules)
            rows.append(row)
            waits += wait
        session.execute(sa.delete(WAITS).where(WAITS.c.request_id.in_(chunk)))
        session.execute(sa.delete(PER_REQUEST).where(PER_REQUEST.c.request_id.in_(chunk)))
        if rows:
            session.execute(PER_REQUEST.insert(), rows)
        if waits:
            session.execute(WAITS.insert(), waits)


def refresh(session: Any, calendar: WorkingCalendar, rules: stats.Rules) -> tuple[str, int]:
    """Bring the per-request figures up to date; returns (fingerprint, last event id).

    Commits (the figures are derived data; a reader of the statistics keeps them current).
    """
    from ckanext.statrequest.model import Event, Request

    fp = fingerprint(calendar, rules, _objection_steps())
    last = _last_event(session)
    known = dict(session.execute(sa.select(STATE.c.key, STATE.c.value)).all())
    if known.get("fingerprint") == fp and known.get("watermark") == str(last):
        return fp, last
    session.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK)))
    known = dict(session.execute(sa.select(STATE.c.key, STATE.c.value)).all())
    last = _last_event(session)
    if known.get("fingerprint") == fp and known.get("watermark") == str(last):
        session.commit()
        return fp, last
    if known.get("fingerprint") != fp:  # new rules: every request again
        session.execute(sa.delete(WAITS))
        session.execute(sa.delete(PER_REQUEST))
        ids = list(session.scalars(sa.select(Request.id).order_by(Request.id)))
    else:
        since = int(known.get("watermark", "0")) - LOOKBACK
        recent = sa.select(Event.request_id).distinct().where(Event.id > since)
        # of the requests with recent events, only those whose (non-objection) events differ in
        # number from the ones their figures were computed from: new events, or one committed
        # late; not every request of the last LOOKBACK events at each refresh (round 9)
        counted = sa.select(Event.request_id.label("rid"), sa.func.count().label("n")).where(
            Event.request_id.in_(recent), Event.transition.not_in(_objection_steps())
        ).group_by(Event.request_id).subquery()
        ids = list(session.scalars(
            sa.select(counted.c.rid).select_from(counted.outerjoin(
                PER_REQUEST, PER_REQUEST.c.request_id == counted.c.rid))
            .where(sa.or_(PER_REQUEST.c.steps.is_(None), PER_REQUEST.c.steps != counted.c.n))
            .order_by(counted.c.rid)))
    _recompute(session, ids, last, calendar, rules)
    for key, value in (("fingerprint", fp), ("watermark", str(last))):
        stmt = insert(STATE).values(key=key, value=value)
        session.execute(stmt.on_conflict_do_update(index_elements=[STATE.c.key],
                                                   set_={"value": value}))
    session.commit()
    return fp, last


# --- aggregates ---------------------------------------------------------------------------

def _percentiles(session: Any, value: Any, group: Any, source: Any
                 ) -> dict[Any, tuple[int, dict[int, float]]]:
    """{group: (n, {p: percentile})} of `value` over `source`, lib/stats.percentile's rule:
    the closest ranks are picked in SQL, the interpolation is the same float arithmetic."""
    ranked = sa.select(
        group.label("g"), value.label("v"),
        (sa.func.row_number().over(partition_by=group, order_by=value) - 1).label("i"),
        sa.func.count().over(partition_by=group).label("n"),
    ).select_from(source).subquery()
    columns = []
    for p in PERCENTS:
        low = (ranked.c.n - 1) * p // 100  # integers: floor, as math.floor of the float
        high = sa.func.least(low + 1, ranked.c.n - 1)
        columns += [sa.func.max(ranked.c.v).filter(ranked.c.i == low),
                    sa.func.max(ranked.c.v).filter(ranked.c.i == high)]
    out = {}
    for g, n, *bounds in session.execute(
            sa.select(ranked.c.g, ranked.c.n, *columns).group_by(ranked.c.g, ranked.c.n)):
        values = {}
        for j, p in enumerate(PERCENTS):
            lo, hi = bounds[2 * j], bounds[2 * j + 1]
            k = (n - 1) * p / 100
            values[p] = lo + (hi - lo) * (k - math.floor(k))
        out[g] = (n, values)
    return out


def _percentiles_indexed(session: Any, value: Any, counts: dict[Any, int], *conditions: Any,
                         group: Any = None) -> dict[Any, tuple[int, dict[int, float]]] | None:
    """_percentiles() of a whole table (no period): the two closest ranks of each percentile
    read from an index on (group, value) with OFFSET, instead of ranking every row in a
    window (which sorts them all, on disk at 100k requests: 25 s; migration 0014).
    None if the rows changed between the count and the reads (a refresh committed): the
    caller then ranks them in one statement as before."""
    out = {}
    for g, n in counts.items():
        if not n:
            continue
        cond = [*conditions, *([group == g] if group is not None else [])]
        values = {}
        for p in PERCENTS:
            low = (n - 1) * p // 100
            high = min(low + 1, n - 1)
            wanted = high - low + 1
            if low <= n - 1 - high:
                found = session.scalars(sa.select(value).where(*cond).order_by(value)
                                        .offset(low).limit(wanted)).all()
            else:  # the 90th from the top end: OFFSET walks a tenth of the index, not 9/10
                found = session.scalars(sa.select(value).where(*cond).order_by(value.desc())
                                        .offset(n - 1 - high).limit(wanted)).all()[::-1]
            if len(found) < wanted:
                return None
            lo, hi = found[0], found[-1]
            k = (n - 1) * p / 100
            values[p] = lo + (hi - lo) * (k - math.floor(k))
        out[g] = (n, values)
    return out


def summarize(session: Any, where: Sequence[Any], calendar: WorkingCalendar,
              rules: stats.Rules) -> dict[str, Any]:
    """lib/stats.summarize of the requests matching `where` (conditions on Request), from the
    per-request figures (call refresh() first)."""
    from ckanext.statrequest.model import Request

    s, w = PER_REQUEST.c, WAITS.c
    # a period's percentiles rank every request of it in memory, not in a sort on disk (the
    # default 4 MB spills at ~100k waits); LOCAL: this transaction only
    session.execute(sa.text("SET LOCAL work_mem = '64MB'"))
    base = sa.outerjoin(Request.__table__, PER_REQUEST, s.request_id == Request.id)
    tz = str(calendar.tz)
    finished = s.finished_at.is_not(None)
    count = sa.func.count()

    def month(col: Any) -> Any:
        return sa.func.to_char(sa.func.timezone(tz, col), "YYYY-MM")

    # one pass over the requests for every count (GROUPING SETS, hashed side by side) instead
    # of one join of the million rows per figure (round 9: 7 passes -> 1)
    keys = (s.state, Request.category, month(Request.received_at), month(s.finished_at),
            s.reason, s.outcome)
    sets = {"total": (), "state": (0,), "category": (1,), "received": (2,), "finished": (3,),
            "reason": (4, 5)}

    def mask(included: tuple[int, ...]) -> int:  # GROUPING(): 1 bits for the keys left out
        return sum(1 << (len(keys) - 1 - i) for i in range(len(keys)) if i not in included)

    which = {mask(ix): name for name, ix in sets.items()}
    with_reason = finished & s.outcome.in_(OUTCOMES_WITH_REASON)
    rows = session.execute(
        sa.select(sa.func.grouping(*keys), *keys, count, count.filter(finished),
                  count.filter(s.state.in_(rules.final)), count.filter(s.extension_days != 0),
                  count.filter(s.on_time.is_(True)), sa.func.sum(s.days).filter(finished),
                  sa.func.min(Request.received_at), sa.func.min(Request.id),
                  count.filter(with_reason), sa.func.min(Request.received_at).filter(with_reason))
        .select_from(base).where(*where)
        .group_by(sa.func.grouping_sets(*[sa.tuple_(*[keys[i] for i in ix])
                                          for ix in sets.values()]))).all()
    by_state: dict[str, int] = {}
    categories, reason_rows = [], []
    received: dict[str, int] = {}
    finished_month: dict[str, int] = {}
    total = n_finished = n_final = extended = timely = 0
    days_sum = None
    for (group, state, category, r_month, f_month, reason, outcome, n, n_done, n_fin, n_ext,
         n_timely, d_sum, first_at, first_id, n_reason, first_reason) in rows:
        kind = which[group]
        if kind == "total":
            total, n_finished, n_final, extended, timely, days_sum = (
                n, n_done, n_fin, n_ext, n_timely, d_sum)
        elif kind == "state" and state is not None:
            by_state[state] = n
        elif kind == "category":
            categories.append((category, n, first_at, first_id))
        elif kind == "received":
            received[r_month] = n
        elif kind == "finished" and f_month is not None:  # NULL: not finished
            finished_month[f_month] = n
        elif kind == "reason" and n_reason:
            reason_rows.append((reason, outcome, n_reason, first_reason))
    order = {st: i for i, st in enumerate(rules.order)}
    categories.sort(key=lambda r: (-r[1], r[2], r[3]))  # Counter.most_common: first seen first

    opd_col = sa.func.unnest(s.opd).label("o")
    # all time: every per-request row belongs to a request, the join adds nothing
    opd_rows = (sa.select(opd_col).select_from(base).where(*where) if where
                else sa.select(opd_col)).subquery()
    by_opd = session.execute(sa.select(opd_rows.c.o, count).group_by(opd_rows.c.o)).all()
    by_opd.sort(key=lambda r: (-r[1], r[0]))

    done_q = sa.select(sa.literal(1).label("g"), s.days.label("days")).select_from(base).where(
        *where, finished).subquery()
    # all time: ranks from the indexes (migration 0014), no sort of every row
    done = _percentiles_indexed(session, s.days, {1: n_finished}, finished) \
        if not where else None
    if done is None:
        done = _percentiles(session, done_q.c.days, done_q.c.g, done_q) if n_finished else {}
    completion = {"count": n_finished, "median": None, "p90": None, "mean": None}
    for _n, values in done.values():
        completion.update(median=stats._r(values[50]), p90=stats._r(values[90]),
                          mean=stats._r(days_sum / n_finished))

    waits_src = sa.join(WAITS, Request.__table__, w.request_id == Request.id)
    waits_q = sa.select(w.state.label("state"), w.days.label("days")).select_from(
        waits_src).where(*where).subquery()
    waits = _percentiles_indexed(session, w.days, dict(session.execute(
        sa.select(w.state, count).group_by(w.state)).all()), group=w.state) \
        if not where else None
    if waits is None:
        waits = _percentiles(session, waits_q.c.days, waits_q.c.state, waits_q)
    steps = [{"state": st, "requests": n, "median": stats._r(values[50]),
              "p90": stats._r(values[90])}
             for st, (n, values) in waits.items()]
    steps.sort(key=lambda row: (-(row["median"] or 0), order.get(row["state"], 99),
                                row["state"]))

    reason_rows.sort(key=lambda r: r[3])
    by_reason: dict[str | None, dict[str, int]] = {}
    for reason, outcome, n, _first in reason_rows:
        by_reason.setdefault(reason, {})[outcome] = n

    return {
        "total": total,
        "finished": n_finished,
        "withdrawn": n_final - n_finished,
        "open": total - n_final,
        "by_state": [{"state": st, "count": by_state[st]}
                     for st in sorted(by_state, key=lambda st: order.get(st, 99))],
        "by_category": [{"category": c, "count": n} for c, n, _a, _b in categories],
        "by_opd": [{"organization_id": o, "count": n} for o, n in by_opd],
        "by_month": [{"month": m, "received": received.get(m, 0),
                      "finished": finished_month.get(m, 0)}
                     for m in sorted(set(received) | set(finished_month))],
        "completion": completion,
        "extended": extended,
        "compliance": {"finished": n_finished, "on_time": timely,
                       "late": n_finished - timely,
                       "percent": stats._r(100 * timely / n_finished, 1)
                       if n_finished else None},
        "steps": steps,
        "by_reason": [{"reason": code, "count": sum(n.values()), "outcomes": n}
                      for code, n in sorted(by_reason.items(),
                                            key=lambda kv: (-sum(kv[1].values()),
                                                            kv[0] or "~"))],
    }


def _kept(session: Any, period: str) -> Any:
    # the age by the database's clock, the one computed_at was written with
    age = sa.extract("epoch", sa.func.now() - SUMMARY.c.computed_at)
    return session.execute(sa.select(
        SUMMARY.c.figures, SUMMARY.c.fingerprint, SUMMARY.c.watermark, SUMMARY.c.computed_at,
        SUMMARY.c.seconds, age.label("age")).where(SUMMARY.c.period == period)).first()


def _current(row: Any, fp: str, last: int) -> bool:
    return row.fingerprint == fp and row.watermark >= last and row.age < FRESH_FOR


def _dated(row: Any, pending: bool = False) -> dict[str, Any]:
    """The kept figures with the time they were computed at and whether newer events wait."""
    return {**row.figures, "computed_at": row.computed_at.isoformat(), "pending": pending}


def _compute(session: Any, where: Sequence[Any], period: str, calendar: WorkingCalendar,
             rules: stats.Rules, fp: str, last: int) -> dict[str, Any]:
    """summarize() the period and keep it, unless another process kept it meanwhile (the
    advisory lock makes concurrent readers and jobs of one period wait for the first)."""
    session.execute(sa.select(sa.func.pg_advisory_xact_lock(
        _SUMMARY_LOCK, sa.func.hashtext(period))))
    row = _kept(session, period)
    if row is not None and _current(row, fp, last):
        session.commit()
        return _dated(row)
    from ckanext.statrequest.lib import opd_stats

    started = time.perf_counter()
    result = summarize(session, where, calendar, rules)
    # the per-OPD task figures (median answer time by the office calendar, in Python: about
    # 0.1 ms a task) are kept with the period's figures, not computed at every reading
    result["opd_tasks"] = opd_stats.per_opd(list(where))
    seconds = time.perf_counter() - started
    stmt = insert(SUMMARY).values(period=period, fingerprint=fp, watermark=last, figures=result,
                                  seconds=seconds)
    computed_at = session.execute(stmt.on_conflict_do_update(
        index_elements=[SUMMARY.c.period],
        set_={"fingerprint": fp, "watermark": last, "figures": result, "seconds": seconds,
              "computed_at": sa.func.now()}).returning(SUMMARY.c.computed_at)).scalar()
    session.commit()
    return {**result, "computed_at": computed_at.isoformat(), "pending": False}


def figures(session: Any, where: Sequence[Any], period: str, calendar: WorkingCalendar,
            rules: stats.Rules, max_age: int = 0) -> dict[str, Any]:
    """summarize() of a period and its per-OPD task figures (`opd_tasks`), kept in
    statrequest_stats_summary until the log changes or FRESH_FOR has passed (with `max_age`
    seconds: until it is older than that), with `computed_at` (ISO) and `pending` (newer
    events are not counted yet).

    After new events a period whose last computation took over SLOW_SECONDS is not computed
    here: its kept figures are returned and one background job recomputes them.

    `period` names the period (the key of the kept result, see `where_of`); `where` selects
    its requests.
    """
    fp = fingerprint(calendar, rules, _objection_steps())
    last = _last_event(session)
    row = _kept(session, period)
    if row is not None:
        if row.fingerprint == fp and (_current(row, fp, last) or (max_age and row.age < max_age)):
            session.commit()  # as refresh() did: end the transaction
            return _dated(row)
        if (row.seconds or 0) > SLOW_SECONDS:
            # the per-request figures too are brought up to date by the job, not here; after
            # new rules (a holiday, the SLA) too: that recomputes every request (~3 ms each,
            # most of an hour at a million), never in a reader's request
            session.commit()
            try:
                enqueue(period)
            except Exception:  # noqa: BLE001 - Redis away: the cron command recomputes it
                log.exception("could not queue the recomputation of the statistics %s", period)
            return _dated(row, pending=True)
    fp, last = refresh(session, calendar, rules)
    return _compute(session, where, period, calendar, rules, fp, last)


# --- recomputation in the background --------------------------------------------------------

def _job_key(period: str) -> str:
    return hashlib.sha256(period.encode()).hexdigest()[:16]


def _mark(period: str) -> str:
    """The Redis key saying a recomputation of `period` is queued or running (per site: sites
    may share a Redis, as CKAN's queue names do)."""
    return f"statrequest:{tk.config.get('ckan.site_id')}:stats-job:{_job_key(period)}"


def job_id(period: str) -> str:
    """The one job id of a period's recomputation."""
    return f"statrequest-stats-{tk.config.get('ckan.site_id')}-{_job_key(period)}"


def enqueue(period: str) -> bool:
    """Queue the recomputation of `period` unless one is queued or running already (a Redis
    key set only by the first of concurrent readers); True if this call queued it."""
    queue = tk.get_job_queue()
    if not queue.connection.set(_mark(period), "1", nx=True, ex=JOB_TTL):
        return False
    tk.enqueue_job(recompute, [period], title=f"statrequest statistics {period}",
                   rq_kwargs={"job_id": job_id(period), "ttl": JOB_TTL,
                              "failure_ttl": JOB_TTL, "result_ttl": 600,
                              # all time at a million requests with their OPD tasks takes
                              # minutes; CKAN's default job timeout is 180 s
                              "timeout": JOB_TTL})
    return True


def received_between(start: dt.datetime | None, end: dt.datetime | None) -> list[Any]:
    """The conditions on Request of the period [start, end) (None: open on that side)."""
    from ckanext.statrequest.model import Request

    return [*([Request.received_at >= start] if start else []),
            *([Request.received_at < end] if end else [])]


def where_of(period: str) -> list[Any]:
    """received_between() of a period key ({"from": date, "to": date} in the office's time
    zone, both included; null: open), the key logic/action/stats.py keeps a period under."""
    from zoneinfo import ZoneInfo

    from ckanext.statrequest import settings

    bounds = json.loads(period)
    tz = ZoneInfo(settings.get("timezone"))

    def midnight(day: str | None, after: int = 0) -> dt.datetime | None:
        return dt.datetime.combine(dt.date.fromisoformat(day) + dt.timedelta(days=after),
                                   dt.time(0), tzinfo=tz) if day else None

    return received_between(midnight(bounds.get("from")), midnight(bounds.get("to"), 1))


def recompute(period: str) -> str:
    """Background job (and the cron command): bring the kept figures of `period` up to date."""
    import ckan.model as model

    from ckanext.statrequest import settings

    session = model.Session
    try:
        rules = stats.rules_for(settings.workflow(), settings.sla_days())
        calendar = settings.calendar()
        fp, last = refresh(session, calendar, rules)
        started = time.perf_counter()
        result = _compute(session, where_of(period), period, calendar, rules, fp, last)
        return f"{period}: as of {result['computed_at']} ({time.perf_counter() - started:.1f} s)"
    finally:
        # the next reader after newer events may queue the next recomputation (from cron
        # without Redis: nothing to release)
        with contextlib.suppress(Exception):
            tk.get_job_queue().connection.delete(_mark(period))


def stale_periods(session: Any, slow_only: bool = True) -> list[str]:
    """The kept periods whose figures are behind the event log or the rules (the slow ones
    only, by default: the fast ones are recomputed exactly at their next reading), and all time
    if it was never computed."""
    from ckanext.statrequest import settings

    rules = stats.rules_for(settings.workflow(), settings.sla_days())
    fp = fingerprint(settings.calendar(), rules, _objection_steps())
    last = _last_event(session)
    stale = sa.or_(SUMMARY.c.fingerprint != fp, SUMMARY.c.watermark < last,
                   SUMMARY.c.computed_at < sa.func.now() - sa.text(f"interval '{FRESH_FOR} seconds'"))
    if slow_only:
        stale = sa.and_(stale, SUMMARY.c.seconds > SLOW_SECONDS)
    periods = list(session.scalars(sa.select(SUMMARY.c.period).where(stale)
                                   .order_by(SUMMARY.c.period)))
    if session.scalar(sa.select(SUMMARY.c.period).where(SUMMARY.c.period == ALL_TIME)) is None:
        periods.insert(0, ALL_TIME)
    session.rollback()
    return periods
