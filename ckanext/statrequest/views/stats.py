"""Statistics for Diskominfo officials, the public transparency page, and request exports.

Thin: the figures come from the statrequest_stats* actions; this module only puts labels on
them (states, categories, months, SKM elements) for the templates, which draw the charts as
inline SVG.
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import ckantoolkit as tk
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask import Blueprint, Response

from ckanext.statrequest import settings
from ckanext.statrequest.core.vocabulary import REQUESTER_CATEGORIES
from ckanext.statrequest.core.workflow import OFFICIAL, REQUESTER_AUDIENCE
from ckanext.statrequest.lib import stats
from ckanext.statrequest.views.common import context, field_errors, labels, refuse
from ckanext.statrequest.views.feedback_forms import PeriodForm

statrequest_stats = Blueprint("statrequest_stats", __name__, url_prefix="/permintaan-data")
_ = tk._

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def element_labels() -> dict[str, str]:
    """The nine SKM elements of PermenPAN-RB 14/2017."""
    return {
        "u1": _("Requirements"),
        "u2": _("Systems, mechanisms and procedures"),
        "u3": _("Completion time"),
        "u4": _("Cost / tariff"),
        "u5": _("Service products (specification and type)"),
        "u6": _("Competence of the staff"),
        "u7": _("Conduct of the staff"),
        "u8": _("Handling of complaints, suggestions and input"),
        "u9": _("Facilities and infrastructure"),
    }


def grade_labels() -> dict[str, str]:
    return {"A": _("Very good"), "B": _("Good"), "C": _("Poor"), "D": _("Very poor")}


def num(value: float | None, digits: int = 1) -> str:
    """A figure in the reader's locale (85,42 in Indonesian, 85.42 in English); – if none."""
    if value is None:
        return "–"
    return format_decimal(round(value, digits), format="#,##0." + "0" * digits,
                          locale=tk.h.lang() or "id")


def _month(value: str) -> str:
    year, month = (int(p) for p in value.split("-"))
    return format_date(dt.date(year, month, 1), "MMM y", locale=tk.h.lang() or "id")


def as_of(value: str | None) -> str | None:
    """When the figures were computed, in the office's time zone and the reader's words
    ("3 Des 2026 18.05" / "3 Dec 2026 18:05")."""
    if not value:
        return None
    when = dt.datetime.fromisoformat(value)
    return format_datetime(when, "d MMM y HH:mm", tzinfo=ZoneInfo(settings.get("timezone")),
                           locale=tk.h.lang() or "id")


def _labels(result: dict[str, Any], audience: str) -> dict[str, Any]:
    """Add the reader's-language labels the templates show (states in `audience`'s words)."""
    language = tk.h.lang() or "id"
    wf = settings.workflow()
    categories = labels(REQUESTER_CATEGORIES)
    for row in result.get("by_state", []) + result.get("steps", []):
        state = wf.states.get(row["state"])
        row["label"] = wf.state_label(row["state"], audience, language)
        row["paused"] = bool(state and state.sla == "paused")
    for row in result.get("by_category", []):
        row["label"] = categories.get(row["category"], row["category"])
    for row in result.get("by_month", []):
        row["label"] = _month(row["month"])
    ikm = result.get("ikm")
    if ikm:
        names = element_labels()
        for row in ikm["elements"]:
            row["label"] = names[row["element"]]
        ikm["grade_label"] = grade_labels()[ikm["grade"]]
    return result


def _charts(result: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Rows of the bar charts: a label, a number and how the number is written."""

    def rows(items: list[dict[str, Any]], key: str, label: str = "label",
             digits: int | None = None) -> list[dict[str, Any]]:
        return [{"label": row[label], "value": row[key] or 0,
                 "display": None if digits is None else num(row[key], digits)}
                for row in items]

    ikm = result.get("ikm")
    return {
        "state": rows(result.get("by_state", []), "count"),
        "month": rows(result.get("by_month", []), "received"),
        "category": rows(result.get("by_category", []), "count"),
        "opd": rows(result.get("by_opd", []), "count", label="title"),
        "steps": rows(result.get("steps", []), "median", digits=2),
        "ikm": rows(ikm["elements"], "ikm", digits=2) if ikm else [],
    }


def _figures(action: str, audience: str
             ) -> tuple[dict[str, Any] | None, PeriodForm, dict[str, list[str]]]:
    form = PeriodForm(tk.request.args)
    try:
        result = tk.get_action(action)(context(), form.to_data_dict())
    except tk.ValidationError as exc:
        return None, form, field_errors(exc)
    except tk.NotAuthorized as exc:
        refuse(exc)
    result = _labels(result, audience)
    result["charts"] = _charts(result)
    result["as_of"] = as_of(result.get("computed_at"))
    return result, form, {}


@statrequest_stats.route("/statistik")
def index() -> Any:
    result, form, errors = _figures("statrequest_stats", OFFICIAL)  # officials only
    return tk.render("statrequest/stats/index.html", {
        "result": result, "form": form, "errors": errors,
        "query": form.to_data_dict(),
        "grades": stats.GRADES, "num": num,
    }), 400 if errors else 200  # the page shows the form again, with what was wrong


@statrequest_stats.route("/statistik/ekspor.<any(csv, xlsx):fmt>")
def export(fmt: str) -> Any:
    form = PeriodForm(tk.request.args)
    data = form.to_data_dict() | {"format": fmt}
    if "include_personal" in tk.request.args:  # refused by the action, with a clear message
        data["include_personal"] = tk.request.args["include_personal"]
    try:
        result = tk.get_action("statrequest_stats_export")(context(), data)
    except tk.NotAuthorized as exc:
        refuse(exc)
    except tk.ValidationError as exc:
        return tk.abort(400, "; ".join(
            f"{k}: {', '.join(v) if isinstance(v, list) else v}"
            for k, v in exc.error_dict.items()))
    if fmt == "xlsx":
        body = stats.to_xlsx(result["columns"], result["rows"], _("Requests"))
    else:
        body = stats.to_csv(result["columns"], result["rows"])
    return Response(body, mimetype=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{result["filename"]}"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    })


@statrequest_stats.route("/transparansi")
def transparency() -> Any:
    # the public's page: the words written to requesters
    result, form, errors = _figures("statrequest_stats_public", REQUESTER_AUDIENCE)
    return tk.render("statrequest/stats/transparency.html", {
        "result": result, "form": form, "errors": errors, "grades": stats.GRADES, "num": num,
    }), 400 if errors else 200
