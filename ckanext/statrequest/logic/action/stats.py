"""Statistics of the service, the public transparency figures and the export of requests.

The figures are computed by `ckanext.statrequest.lib.stats` from the event log (see its
module docstring for the definition of each). A period selects requests by the day they were
received; `year`, `date_from` and `date_to` may be combined (all of them apply). Their names:
`logic.api.ACTIONS["stats"]`.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any
from zoneinfo import ZoneInfo

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import func, select

from ckanext.statrequest import settings
from ckanext.statrequest.core.vocabulary import COMPLAINT_CHANNELS
from ckanext.statrequest.lib import access, reasons, stats, stats_sql
from ckanext.statrequest.lib import objection as objections
from ckanext.statrequest.lib.texts import lang
from ckanext.statrequest.logic import common
from ckanext.statrequest.logic import dictization as dz
from ckanext.statrequest.logic.schema import stats as schema
from ckanext.statrequest.model import Request
from ckanext.statrequest.model.feedback import ELEMENTS, Complaint, Survey

log = logging.getLogger(__name__)
_ = tk._

EXPORT_COLUMNS = ("tracking_number", "received_at", "category", "title", "state", "outcome",
                  "reason", "reason_label", "routed_opd", "finished_at", "working_days",
                  "on_time", "extension_days")
RECENT_COMMENTS = 20
# the per-OPD task figures the transparency page publishes (lib/opd_stats.per_opd)
PUBLIC_OPD_FIGURES = ("organization_id", "title", "tasks", "judged", "on_time_share",
                      "median_answer_days", "no_data_share")


def _day(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _period(data: dict[str, Any]) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start, end) in the office's time zone; None where the period is open."""
    lows: list[dt.date] = []
    highs: list[dt.date] = []
    if data.get("year"):
        lows.append(dt.date(data["year"], 1, 1))
        highs.append(dt.date(data["year"] + 1, 1, 1))
    if data.get("date_from"):
        lows.append(_day(data["date_from"]))
    if data.get("date_to"):
        highs.append(_day(data["date_to"]) + dt.timedelta(days=1))
    start, end = max(lows, default=None), min(highs, default=None)
    if start and end and end <= start:
        raise tk.ValidationError({"date_to": [_("The end date is before the start date.")]})
    tz = ZoneInfo(settings.get("timezone"))

    def midnight(d: dt.date | None) -> dt.datetime | None:
        return dt.datetime.combine(d, dt.time(0), tzinfo=tz) if d else None

    return midnight(start), midnight(end)


def _period_dict(start: dt.datetime | None, end: dt.datetime | None) -> dict[str, Any]:
    return {"from": start.date().isoformat() if start else None,
            "to": (end.date() - dt.timedelta(days=1)).isoformat() if end else None}


def _org_titles(ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return {gid: title or name for gid, name, title in model.Session.execute(
        select(model.Group.id, model.Group.name, model.Group.title)
        .where(model.Group.id.in_(ids)))}


def _of_period(column: Any, where: list[Any]) -> list[Any]:
    """`column` (a request id) among the requests of the period; no condition for all time
    (every row belongs to a request): a million request ids are not read to keep them all."""
    return [column.in_(select(Request.id).where(*where).scalar_subquery())] if where else []


def _ikm(where: list[Any]) -> dict[str, Any] | None:
    rows = model.Session.execute(
        select(*[getattr(Survey, u) for u in ELEMENTS]).where(
            *_of_period(Survey.request_id, where))
    ).all()
    result = stats.ikm([tuple(r) for r in rows])
    if result is not None:
        # an index of a handful of answers is not published (see ikm_min_respondents)
        result["minimum"] = settings.ikm_min_respondents()
        result["published"] = result["respondents"] >= result["minimum"]
    return result


def _complaints(start: dt.datetime | None, end: dt.datetime | None) -> dict[str, Any]:
    """Complaints filed in the period (by their own date), per state."""
    stmt = select(Complaint.state, func.count()).group_by(Complaint.state)
    if start:
        stmt = stmt.where(Complaint.created_at >= start)
    if end:
        stmt = stmt.where(Complaint.created_at < end)
    counts = dict(model.Session.execute(stmt).all())
    return {"total": sum(counts.values()), "received": counts.get("diterima", 0),
            "answered": counts.get("ditanggapi", 0), "closed": counts.get("selesai", 0),
            **_complaint_service(start, end)}


def _complaint_service(start: dt.datetime | None, end: dt.datetime | None) -> dict[str, Any]:
    """How complaints reached the office (per channel) and how many answered ones were
    answered by their due date; the share is None while none with a due date was answered."""
    where = [Complaint.created_at >= start] if start else []
    where += [Complaint.created_at < end] if end else []
    by_channel = dict(model.Session.execute(
        select(Complaint.channel, func.count()).where(*where).group_by(Complaint.channel)).all())
    answered = [Complaint.responded_at.is_not(None), Complaint.due_at.is_not(None)]
    total = model.Session.scalar(select(func.count()).select_from(Complaint)
                                 .where(*where, *answered)) or 0
    on_time = model.Session.scalar(select(func.count()).select_from(Complaint).where(
        *where, *answered, Complaint.responded_at <= Complaint.due_at)) or 0
    return {
        "by_channel": [{"channel": code, "label": tk._(COMPLAINT_CHANNELS[code]),
                        "count": by_channel[code]}
                       for code in COMPLAINT_CHANNELS if by_channel.get(code)],
        "answered_with_due": total, "answered_on_time": on_time,
        "on_time_share": round(100 * on_time / total, 1) if total else None,
    }


def _figures(data: dict[str, Any]) -> tuple[dict[str, Any], list[Any],
                                            tuple[dt.datetime | None, dt.datetime | None]]:
    start, end = _period(data)
    where = stats_sql.received_between(start, end)
    rules = stats.rules_for(settings.workflow(), settings.sla_days())
    # aggregated by the database (lib/stats_sql.py), kept per period until the log changes;
    # a slow period's kept figures are served (dated) while a background job recomputes them
    result = stats_sql.figures(model.Session, where, json.dumps(_period_dict(start, end)),
                               settings.calendar(), rules, settings.stats_max_age())
    result.update(period=_period_dict(start, end), sla_days=settings.sla_days(),
                  ikm=_ikm(where), complaints=_complaints(start, end),
                  # objections against the answers to the requests of the period
                  objections=objections.figures(select(Request.id).where(*where)
                                                .scalar_subquery() if where else None))
    language = "en" if lang() == "en" else "id"
    for row in result["by_reason"]:
        row["label"] = reasons.label(row["reason"], language) if row["reason"] else None
    return result, where, (start, end)


@tk.side_effect_free
def statrequest_stats(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """All figures of the service for Diskominfo officials.

    :param year: requests received in this year; :param date_from, date_to: ISO dates
    :returns: counts (total, finished, withdrawn, open, by_state, by_category, by_opd,
        by_month), completion (median, p90, mean working days), compliance (on time, late,
        percent), steps (median and p90 working days waited per state, longest first),
        ikm (per element and overall, with grade), complaints, recent survey comments;
        computed_at (ISO time the figures were computed at) and pending (newer events are
        being counted in the background)
    """
    data = common.authorized("statrequest_stats", context, data_dict, schema.stats())
    result, where, _span = _figures(data)
    titles = _org_titles({row["organization_id"] for row in result["by_opd"]})
    for row in result["by_opd"]:
        row["title"] = titles.get(row["organization_id"], row["organization_id"])
    # result["opd_tasks"]: the per-OPD task figures (issue #12, lib/opd_stats.per_opd), kept
    # with the period's figures by stats_sql
    result["comments"] = [
        {"tracking_number": number, "comment": comment, "created_at": dz.iso(at)}
        for number, comment, at in model.Session.execute(
            select(Request.tracking_number, Survey.comment, Survey.created_at)
            .join(Request, Request.id == Survey.request_id)
            .where(*_of_period(Survey.request_id, where), Survey.comment != "")
            .order_by(Survey.created_at.desc()).limit(RECENT_COMMENTS))
    ]
    return result


@tk.side_effect_free
def statrequest_stats_public(context: dict[str, Any], data_dict: dict[str, Any]
                             ) -> dict[str, Any]:
    """Aggregates for the public transparency page: no per-request rows, no step details,
    no survey comments; per OPD only its task figures (`opd_tasks`: tasks, on-time share of
    the judged ones, median answer working days, "no data" share)."""
    data = common.authorized("statrequest_stats_public", context, data_dict, schema.stats_public())
    result, where, _span = _figures(data)
    keep = ("total", "finished", "withdrawn", "open", "by_category", "by_month", "completion",
            "compliance", "period", "sla_days", "ikm", "complaints", "by_reason", "objections",
            "computed_at", "pending")  # how fresh the figures are (stats_sql.figures)
    public = {key: result[key] for key in keep}
    ikm = public["ikm"]
    if ikm is not None and not ikm["published"]:
        # only how many answers there are, not the index, until there are enough
        public["ikm"] = None
        public["ikm_pending"] = {"respondents": ikm["respondents"], "minimum": ikm["minimum"]}
    # per OPD (public agencies, no personal data): how often asked, answered on time, how
    # fast, how often without data (issue #12)
    public["opd_tasks"] = [{key: row[key] for key in PUBLIC_OPD_FIGURES}
                           for row in result["opd_tasks"]]
    return public


def _filename(start: dt.datetime | None, end: dt.datetime | None, fmt: str) -> str:
    period = _period_dict(start, end)
    if start and end and start.month == 1 and start.day == 1 and end == start.replace(
            year=start.year + 1):
        span = str(start.year)
    elif start or end:
        span = f"{period['from'] or 'awal'}_{period['to'] or 'kini'}"
    else:
        span = "semua"
    return f"permintaan-data_{span}_tanpa-data-pribadi.{fmt}"


def statrequest_stats_export(context: dict[str, Any], data_dict: dict[str, Any]
                             ) -> dict[str, Any]:
    """The requests of a period as table rows, for a CSV or XLSX file.

    Rows are the requests the caller may see (officials: all; an OPD administrator: those
    routed to the OPD). An export never carries personal data (the requester's name,
    institution, identity, email, phone, address), whoever asks: a file leaves the portal's
    access rules and log behind; `include_personal=true` is refused. Every export is logged.

    :param year, date_from, date_to: the period (by day of receipt)
    :param format: csv | xlsx (only the file name depends on it)
    :returns: {"filename", "format", "columns", "rows"}
    """
    data = common.authorized("statrequest_stats_export", context, data_dict, schema.stats_export())
    actor = access.context_actor(context)
    start, end = _period(data)
    where = [*stats_sql.received_between(start, end), access.visible_requests_clause(actor)]
    histories = {h.request_id: h for h in stats.load(*where)}
    requests = model.Session.scalars(
        select(Request).where(*where).order_by(Request.received_at, Request.id)).all()
    calendar = settings.calendar()
    rules = stats.rules_for(settings.workflow(), settings.sla_days())
    titles = _org_titles({o for h in histories.values() for o in h.routed})
    rows = []
    for r in requests:
        h = histories.get(r.id) or stats.History(r.id, r.tracking_number, r.received_at,
                                                 r.category)
        days = stats.completion_days(h, calendar, rules)
        row: list[Any] = [
            r.tracking_number, dz.iso(r.received_at), r.category, r.title, h.state or r.state,
            r.outcome or "", h.reason or "",
            reasons.label(h.reason, "id") if h.reason else "",
            "; ".join(sorted(titles.get(o, o) for o in h.routed)),
            dz.iso(stats.finished_at(h, rules)) or "",
            round(days, 2) if days is not None else None, stats.on_time(h, calendar, rules),
            h.extension_days,  # on_time is judged against the extended deadline
        ]
        rows.append(row)
    fmt = data.get("format") or "csv"
    filename = _filename(start, end, fmt)
    log.info("statrequest export by %s: %d requests, %s, personal data not included (%s)",
             actor.name, len(rows), fmt, filename)
    return {"filename": filename, "format": fmt, "columns": list(EXPORT_COLUMNS), "rows": rows}
