"""Service statistics, computed from the append-only event log so that they can be reproduced.

How each figure is defined (the statistics page says the same to its readers):

- A request belongs to a period by the day it was received (office time zone).
- Its state is the `to_state` of its last event.
- It is *finished* when that state is a "completed" final state: a final state entered by
  someone other than the requester (`selesai` in the default workflow; a withdrawal,
  `dibatalkan`, is final but not finished). It finished at the time of that last event.
- Completion time: office time from `received_at` to the final event (`WorkingCalendar`,
  so nights, weekends and holidays do not count), minus the office time spent in paused
  states (waiting for the requester), in working days.
- On time: the final event is not later than the deadline the calendar gives for the request
  (`due_date(received_at, sla_days, pauses)`), i.e. the same rule as the on-time/overdue badge
  of each request: day of receipt is day 0, due at the end of office hours of the N-th
  working day, pauses move the deadline; a request whose deadline was extended (perpanjangan)
  is judged against the extended deadline (its extension's working days are added).
- Extended: requests whose deadline was extended (an event with `extension_days`).
- Time per step: for every pair of consecutive events, the request waited in the first
  event's `to_state` until the second; per request the waits in one state are summed (a
  request can come back to a state), and the median and p90 are over those per-request
  sums. A state the request is still in is not counted (its wait is not over).
- Percentiles interpolate linearly between the closest ranks (numpy's and Excel's
  PERCENTILE.INC rule); the median is the 50th percentile.
- Reasons: a finished request whose answer is a refusal or a partial answer counts once
  for the reason of that decision (the last event that set the outcome); a decision taken
  without a reason (before reasons were recorded) counts under no reason (None).
- IKM (PermenPAN-RB 14/2017): the average score of each of the nine elements (NRR, 1–4),
  IKM = mean of the nine averages × 25, graded A 88.31–100, B 76.61–88.30, C 65.00–76.60,
  D 25.00–64.99.

The computing functions are plain Python over `History` records; `load()` reads them from the
database. Nothing here knows Flask.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ckanext.statrequest.core.calendar import WorkingCalendar
from ckanext.statrequest.core.vocabulary import OUTCOMES_WITH_REASON
from ckanext.statrequest.core.workflow import REQUESTER, Workflow

ELEMENT_COUNT = 9
# Lower bounds of the PermenPAN-RB 14/2017 quality grades, on the IKM (25–100) scale.
GRADES: tuple[tuple[float, str], ...] = (
    (88.31, "A"), (76.61, "B"), (65.00, "C"), (25.00, "D"))


@dataclass(frozen=True)
class Step:
    """One event: the request entered `to_state` at `at` (and was routed to `opd`, if any)."""

    to_state: str
    at: dt.datetime
    opd: tuple[str, ...] = ()


@dataclass
class History:
    request_id: str
    tracking_number: str
    received_at: dt.datetime
    category: str
    steps: list[Step] = field(default_factory=list)
    outcome: str | None = None  # as decided by the last event that set one
    reason: str | None = None  # the reason given with that decision
    extension_days: int = 0  # working days the deadline was extended by (perpanjangan)

    @property
    def state(self) -> str | None:
        return self.steps[-1].to_state if self.steps else None

    @property
    def routed(self) -> set[str]:
        return {org for step in self.steps for org in step.opd}


@dataclass(frozen=True)
class Rules:
    """What the workflow says about states, reduced to what the statistics need."""

    completed: frozenset[str]
    final: frozenset[str]
    paused: frozenset[str]
    order: tuple[str, ...]
    sla_days: int


def rules_for(wf: Workflow, sla_days: int) -> Rules:
    # A final state the requester can reach (a withdrawal) is not a finished service.
    by_requester = {t.target for t in wf.transitions.values() if t.actor == REQUESTER}
    return Rules(
        completed=frozenset(s for s in wf.final if s not in by_requester),
        final=frozenset(wf.final),
        paused=frozenset(s.name for s in wf.states.values() if s.sla == "paused"),
        order=tuple(wf.states),
        sla_days=sla_days,
    )


# --- per request --------------------------------------------------------------------------

def spells(history: History) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """(state, entered, left) for every state the request has left: consecutive events."""
    steps = history.steps
    return [(a.to_state, a.at, b.at) for a, b in zip(steps, steps[1:], strict=False)]


def pauses(history: History, rules: Rules) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(start, end) for state, start, end in spells(history) if state in rules.paused]


def finished_at(history: History, rules: Rules) -> dt.datetime | None:
    if history.state in rules.completed:
        return history.steps[-1].at
    return None


def completion_days(history: History, calendar: WorkingCalendar, rules: Rules) -> float | None:
    """Working days from receipt to the final event, paused time excluded."""
    done = finished_at(history, rules)
    if done is None:
        return None
    start = history.received_at
    total = calendar.working_time_between(start, done)
    for pause_start, pause_end in pauses(history, rules):
        a, b = max(pause_start, start), min(pause_end, done)
        if b > a:
            total -= calendar.working_time_between(a, b)
    return total / calendar.day_length


def on_time(history: History, calendar: WorkingCalendar, rules: Rules) -> bool | None:
    done = finished_at(history, rules)
    if done is None:
        return None
    due = calendar.due_date(history.received_at, rules.sla_days + history.extension_days,
                            pauses(history, rules))
    return done <= due


def state_waits(history: History, calendar: WorkingCalendar) -> dict[str, float]:
    """Working days spent in each state the request has left, summed over its visits."""
    waits: dict[str, float] = defaultdict(float)
    for state, start, end in spells(history):
        waits[state] += calendar.working_days_between(start, end)
    return dict(waits)


# --- over many requests -------------------------------------------------------------------

def percentile(values: Iterable[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (PERCENTILE.INC); None for no values."""
    xs = sorted(values)
    if not xs:
        return None
    k = (len(xs) - 1) * p / 100
    low = math.floor(k)
    high = min(low + 1, len(xs) - 1)
    return xs[low] + (xs[high] - xs[low]) * (k - low)


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def month_of(instant: dt.datetime, calendar: WorkingCalendar) -> str:
    return calendar.localize(instant).strftime("%Y-%m")


def summarize(histories: Sequence[History], calendar: WorkingCalendar, rules: Rules
              ) -> dict[str, Any]:
    """Every figure of the statistics page, rounded for display (days to 0.01, % to 0.1)."""
    states = Counter(h.state for h in histories if h.state)
    categories = Counter(h.category for h in histories)
    opd = Counter(org for h in histories for org in h.routed)
    received = Counter(month_of(h.received_at, calendar) for h in histories)
    finished_month: Counter[str] = Counter()
    days: list[float] = []
    timely = 0
    waits: dict[str, list[float]] = defaultdict(list)
    for h in histories:
        for state, value in state_waits(h, calendar).items():
            waits[state].append(value)
        done = finished_at(h, rules)
        if done is None:
            continue
        finished_month[month_of(done, calendar)] += 1
        days.append(completion_days(h, calendar, rules) or 0.0)
        timely += bool(on_time(h, calendar, rules))
    finished = len(days)
    final = sum(n for s, n in states.items() if s in rules.final)
    by_reason: dict[str | None, Counter[str]] = defaultdict(Counter)
    for h in histories:
        if h.outcome in OUTCOMES_WITH_REASON and finished_at(h, rules) is not None:
            by_reason[h.reason][h.outcome] += 1
    order = {s: i for i, s in enumerate(rules.order)}
    steps = [
        {"state": s, "requests": len(v), "median": _r(percentile(v, 50)),
         "p90": _r(percentile(v, 90))}
        for s, v in waits.items()
    ]
    steps.sort(key=lambda row: (-(row["median"] or 0), order.get(row["state"], 99)))
    return {
        "total": len(histories),
        "finished": finished,
        "withdrawn": final - finished,
        "open": len(histories) - final,
        "by_state": [{"state": s, "count": states[s]}
                     for s in sorted(states, key=lambda s: order.get(s, 99))],
        "by_category": [{"category": c, "count": n} for c, n in categories.most_common()],
        "by_opd": [{"organization_id": o, "count": n}
                   for o, n in sorted(opd.items(), key=lambda kv: (-kv[1], kv[0]))],
        "by_month": [{"month": m, "received": received[m], "finished": finished_month[m]}
                     for m in sorted(set(received) | set(finished_month))],
        "completion": {"count": finished, "median": _r(percentile(days, 50)),
                       "p90": _r(percentile(days, 90)),
                       "mean": _r(sum(days) / finished) if finished else None},
        "extended": sum(1 for h in histories if h.extension_days),
        "compliance": {"finished": finished, "on_time": timely, "late": finished - timely,
                       "percent": _r(100 * timely / finished, 1) if finished else None},
        "steps": steps,
        "by_reason": [{"reason": code, "count": sum(n.values()), "outcomes": dict(n)}
                      for code, n in sorted(by_reason.items(),
                                            key=lambda kv: (-sum(kv[1].values()), kv[0] or "~"))],
    }


def grade(ikm_value: float) -> str:
    value = round(ikm_value, 2)
    return next((g for bound, g in GRADES if value >= bound), "D")


def ikm(responses: Sequence[Sequence[int]]) -> dict[str, Any] | None:
    """The Indeks Kepuasan Masyarakat of survey responses (nine scores 1–4 each)."""
    if not responses:
        return None
    n = len(responses)
    averages = [sum(r[i] for r in responses) / n for i in range(ELEMENT_COUNT)]
    index = sum(averages) / ELEMENT_COUNT * 25
    return {
        "respondents": n,
        "elements": [{"element": f"u{i + 1}", "average": round(a, 2),
                      "ikm": round(a * 25, 2), "grade": grade(a * 25)}
                     for i, a in enumerate(averages)],
        "average": round(sum(averages) / ELEMENT_COUNT, 3),
        "ikm": round(index, 2),
        "grade": grade(index),
    }


# --- reading the log ----------------------------------------------------------------------

def load(*where: Any) -> list[History]:
    """Histories of the requests matching `where` (SQLAlchemy conditions on Request)."""
    import ckan.model as model
    from sqlalchemy import select

    from ckanext.statrequest.model import Event, Request

    histories: dict[str, History] = {}
    for rid, number, received, category in model.Session.execute(
            select(Request.id, Request.tracking_number, Request.received_at, Request.category)
            .where(*where).order_by(Request.received_at, Request.id)):
        histories[rid] = History(rid, number, received, category)
    if not histories:
        return []
    chosen = select(Request.id).where(*where).scalar_subquery()
    # an objection's steps move the objection, not the request: the answer's figures stand
    from ckanext.statrequest import settings

    objection_steps = [t.name for t in settings.workflow().transitions.values() if t.objection]
    for rid, to_state, at, opd, outcome, reason, extension in model.Session.execute(
            select(Event.request_id, Event.to_state, Event.created_at, Event.data["opd"],
                   Event.data["outcome"], Event.data["reason"], Event.data["extension_days"])
            .where(Event.request_id.in_(chosen), Event.transition.not_in(objection_steps))
            .order_by(Event.request_id, Event.id)):
        opd_ids = tuple(opd) if isinstance(opd, list) else ()
        histories[rid].steps.append(Step(to_state, at, opd_ids))
        if isinstance(extension, int) and not isinstance(extension, bool):
            histories[rid].extension_days += extension
        if isinstance(outcome, str):  # a decision: it replaces any earlier one
            histories[rid].outcome = outcome
            histories[rid].reason = reason if isinstance(reason, str) else None
    return list(histories.values())


# --- exports ------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def to_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark (so spreadsheet programs pick the right encoding).

    Text that a spreadsheet would run as a formula gets a leading apostrophe (CSV injection).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([
            "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else
            ("" if v is None else v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.data_type == "f":
                cell.data_type = "s"  # text that starts with "=" stays text, never a formula
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
