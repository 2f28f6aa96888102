"""Per-OPD figures of the OPD tasks (issue #12): per OPD the tasks, answered, no data,
closed by staff, still open and overdue, the median answer time (working days from being
asked to the OPD's answer, "no data" included) and the on-time share.

Note for H3 (lib/stats.py moving into SQL): this module is separate on purpose, so the two
do not collide; it reads only `statrequest_opd_task` (counts in SQL, one GROUP BY; the
median in Python because working days need the office calendar: about 0.1 ms a task, so
~10 s at 100k tasks). lib/stats_sql keeps its result with the period's figures (`opd_tasks`),
computed with them — in the background for a slow period — not at every reading.

On time: answered (or "no data") by the task's due date. Judged: every answered / no data
task, every task still open past its due date, and every task closed by staff after its due
date (counted late); a task closed before its due date, or still open within it, is not
judged.
"""
from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

import ckan.model as model
from sqlalchemy import and_, func, select

from ckanext.statrequest import settings
from ckanext.statrequest.model import Request
from ckanext.statrequest.model.opd_task import ANSWERED, ASKED, CLOSED, NO_DATA, OpdTask


def per_opd(where: list[Any] | None = None, now: dt.datetime | None = None
            ) -> list[dict[str, Any]]:
    """One row per OPD with tasks, by title. `where`: conditions on `Request` (the period)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    calendar = settings.calendar()
    t = OpdTask
    responded = t.status.in_((ANSWERED, NO_DATA))
    on_time = and_(responded, t.answered_at <= t.due)
    late = ((responded & (t.answered_at > t.due)) | ((t.status == ASKED) & (t.due < now))
            | ((t.status == CLOSED) & (t.closed_at > t.due)))

    def count(condition: Any) -> Any:
        return func.count().filter(condition)

    query = select(
        t.organization_id, func.count(), count(t.status == ANSWERED), count(t.status == NO_DATA),
        count(t.status == CLOSED), count(t.status == ASKED),
        count((t.status == ASKED) & (t.due < now)), count(on_time), count(late),
    ).group_by(t.organization_id)
    pairs = select(t.organization_id, t.asked_at, t.answered_at).where(responded)
    if where:
        chosen = select(Request.id).where(*where).scalar_subquery()
        query = query.where(t.request_id.in_(chosen))
        pairs = pairs.where(t.request_id.in_(chosen))
    days: dict[str, list[float]] = {}
    for org_id, asked, answered in model.Session.execute(pairs):
        days.setdefault(org_id, []).append(calendar.working_days_between(asked, answered))
    rows = model.Session.execute(query).all()
    title = func.coalesce(func.nullif(model.Group.title, ""), model.Group.name)
    titles = dict(model.Session.execute(select(model.Group.id, title).where(
        model.Group.id.in_([r[0] for r in rows]))).all()) if rows else {}
    out = []
    for org_id, tasks, answered, no_data, closed, open_, overdue, in_time, late_ in rows:
        judged = in_time + late_
        spans = days.get(org_id, [])
        out.append({
            "organization_id": org_id, "title": titles.get(org_id, org_id),
            "tasks": tasks, "answered": answered, "no_data": no_data, "closed": closed,
            "open": open_, "overdue": overdue,
            "no_data_share": round(no_data / tasks, 4) if tasks else None,
            "median_answer_days": round(statistics.median(spans), 2) if spans else None,
            "on_time": in_time, "judged": judged,
            "on_time_share": round(in_time / judged, 4) if judged else None,
        })
    return sorted(out, key=lambda r: (str(r["title"]).lower(), r["organization_id"]))
