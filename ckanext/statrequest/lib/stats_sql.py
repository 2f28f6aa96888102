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
(or the rules) change: reading the statistics page again costs three small queries.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from typing import Any

import ckantoolkit as tk
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert

from ckanext.statrequest.core.calendar import WorkingCalendar
from ckanext.statrequest.core.vocabulary import OUTCOMES_WITH_REASON
from ckanext.statrequest.lib import stats

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
PERCENTS = (50, 90)


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
        ids = list(session.scalars(sa.select(Event.request_id).distinct()
                                   .where(Event.id > since)))
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
            found = session.scalars(sa.select(value).where(*cond).order_by(value)
                                    .offset(low).limit(2)).all()
            if not found or (low + 1 <= n - 1 and len(found) < 2):
                return None
            lo = found[0]
            hi = found[1] if low + 1 <= n - 1 else lo
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

    total, n_finished, n_final, extended, timely, days_sum = session.execute(
        sa.select(count, count.filter(finished), count.filter(s.state.in_(rules.final)),
                  count.filter(s.extension_days != 0), count.filter(s.on_time.is_(True)),
                  sa.func.sum(s.days).filter(finished))
        .select_from(base).where(*where)).one()

    by_state = dict(session.execute(
        sa.select(s.state, count).select_from(base).where(*where, s.state.is_not(None))
        .group_by(s.state)).all())
    order = {st: i for i, st in enumerate(rules.order)}

    categories = session.execute(
        sa.select(Request.category, count, sa.func.min(Request.received_at),
                  sa.func.min(Request.id))
        .select_from(base).where(*where).group_by(Request.category)).all()
    categories.sort(key=lambda r: (-r[1], r[2], r[3]))  # Counter.most_common: first seen first

    opd_col = sa.func.unnest(s.opd).label("o")
    opd_rows = sa.select(opd_col).select_from(base).where(*where).subquery()
    by_opd = session.execute(sa.select(opd_rows.c.o, count).group_by(opd_rows.c.o)).all()
    by_opd.sort(key=lambda r: (-r[1], r[0]))

    def month(col: Any) -> Any:
        return sa.func.to_char(sa.func.timezone(tz, col), "YYYY-MM")

    received = dict(session.execute(
        sa.select(month(Request.received_at), count).select_from(base).where(*where)
        .group_by(month(Request.received_at))).all())
    finished_month = dict(session.execute(
        sa.select(month(s.finished_at), count).select_from(base).where(*where, finished)
        .group_by(month(s.finished_at))).all())

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

    reason_rows = session.execute(
        sa.select(s.reason, s.outcome, count, sa.func.min(Request.received_at))
        .select_from(base).where(*where, finished, s.outcome.in_(OUTCOMES_WITH_REASON))
        .group_by(s.reason, s.outcome)).all()
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


def figures(session: Any, where: Sequence[Any], period: str, calendar: WorkingCalendar,
            rules: stats.Rules, max_age: int = 0) -> dict[str, Any]:
    """summarize() of a period, kept in statrequest_stats_summary until the log changes
    (or, with `max_age` seconds, until it is older than that).

    `period` names the period (the key of the kept result); `where` selects its requests.
    """
    fp, last = refresh(session, calendar, rules)
    fresh = SUMMARY.c.watermark == last
    if max_age:
        fresh = sa.or_(fresh, SUMMARY.c.computed_at
                       > sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, max_age))
    kept = session.execute(sa.select(SUMMARY.c.figures).where(
        SUMMARY.c.period == period, SUMMARY.c.fingerprint == fp, fresh)).scalar()
    if kept is not None:
        return kept
    result = summarize(session, where, calendar, rules)
    stmt = insert(SUMMARY).values(period=period, fingerprint=fp, watermark=last, figures=result)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[SUMMARY.c.period],
        set_={"fingerprint": fp, "watermark": last, "figures": result,
              "computed_at": sa.func.now()}))
    session.commit()
    return result
