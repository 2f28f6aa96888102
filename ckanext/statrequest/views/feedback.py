"""Pages of the satisfaction survey (SKM) and of complaints (pengaduan).

Thin: each page calls the statrequest_survey_* / statrequest_complaint_* actions and renders.
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import ckantoolkit as tk
from flask import Blueprint

from ckanext.statrequest import settings
from ckanext.statrequest.core.vocabulary import COMPLAINT_CHANNELS, COMPLAINT_ONLINE
from ckanext.statrequest.views.common import (
    PAGE_SIZE,
    allow,
    call,
    context,
    form_errors,
    may,
    page_number,
    paging,
    submit,
)
from ckanext.statrequest.views.feedback_forms import (
    ComplaintForm,
    CounterComplaintForm,
    ResponseForm,
    SurveyForm,
)

statrequest_feedback = Blueprint("statrequest_feedback", __name__,
                                 url_prefix="/permintaan-data")
_ = tk._


# --- survey -------------------------------------------------------------------------------

def survey_questions() -> list[dict[str, Any]]:
    """The questionnaire of PermenPAN-RB 14/2017: per element a question and four answers,
    worst (1) to best (4)."""
    return [
        {"code": "u1", "question": _(
            "How well do the requirements of the service fit the kind of service?"),
         "answers": [_("Not suitable"), _("Less suitable"), _("Suitable"), _("Very suitable")]},
        {"code": "u2", "question": _("How easy are the procedures of the service?"),
         "answers": [_("Not easy"), _("Less easy"), _("Easy"), _("Very easy")]},
        {"code": "u3", "question": _("How fast was the service delivered?"),
         "answers": [_("Not fast"), _("Less fast"), _("Fast"), _("Very fast")]},
        {"code": "u4", "question": _("How fair is the cost or tariff of the service?"),
         "answers": [_("Very expensive"), _("Fairly expensive"), _("Cheap"), _("Free")]},
        {"code": "u5", "question": _(
            "How well does what you received match what the service standard promises?"),
         "answers": [_("Not suitable"), _("Less suitable"), _("Suitable"), _("Very suitable")]},
        {"code": "u6", "question": _("How competent were the staff who served you?"),
         "answers": [_("Not competent"), _("Less competent"), _("Competent"),
                     _("Very competent")]},
        {"code": "u7", "question": _("How polite and friendly were the staff?"),
         "answers": [_("Not polite and friendly"), _("Less polite and friendly"),
                     _("Polite and friendly"), _("Very polite and friendly")]},
        {"code": "u8", "question": _("How are complaints, suggestions and input handled?"),
         "answers": [_("There is no way to complain"), _("It exists but does not work"),
                     _("It works, but not fully"), _("It is well managed")]},
        {"code": "u9", "question": _("How good are the facilities and infrastructure?"),
         "answers": [_("Bad"), _("Fair"), _("Good"), _("Very good")]},
    ]


@statrequest_feedback.route("/<ref>/survei", methods=["GET", "POST"])
def survey(ref: str) -> Any:
    shown = call("statrequest_survey_show", id=ref)
    form = SurveyForm()
    errors: dict[str, list[str]] = {}
    if tk.request.method == "POST":
        allow("statrequest_survey_submit", {"id": shown["request_id"]})
        if form.validate_on_submit():
            saved, errors = submit("statrequest_survey_submit",
                                   form.to_data_dict(shown["request_id"]))
            if saved is not None:
                tk.h.flash_success(_("Thank you for rating our service."))
                return tk.redirect_to("statrequest_feedback.survey",
                                      ref=shown["tracking_number"])
        else:
            errors = form_errors(form)
    return tk.render("statrequest/feedback/survey.html", {
        "survey": shown, "form": form, "errors": errors, "questions": survey_questions(),
    })


# --- complaints ---------------------------------------------------------------------------

def _my_requests() -> list[tuple[str, str]]:
    mine = tk.get_action("statrequest_list")(
        context(), {"requester": tk.current_user.id, "sort": "newest", "limit": 100})
    return [(r["tracking_number"], f'{r["tracking_number"]} — {r["title"]}')
            for r in mine["results"]]


@statrequest_feedback.route("/pengaduan/baru", methods=["GET", "POST"])
def complaint_new() -> Any:
    allow("statrequest_complaint_create")
    form = ComplaintForm()
    form.request.choices = [("", _("About the service in general"))] + _my_requests()
    errors: dict[str, list[str]] = {}
    if tk.request.method == "GET":
        form.request.data = tk.request.args.get("permintaan", "")
    elif form.validate_on_submit():
        created, errors = submit("statrequest_complaint_create", form.to_data_dict())
        if created is not None:
            tk.h.flash_success(_("Your complaint was received with number %(number)s.")
                               % {"number": created["number"]})
            return tk.redirect_to("statrequest_feedback.complaint_read", ref=created["number"])
    else:
        errors = form_errors(form)
    return tk.render("statrequest/feedback/complaint_new.html", {"form": form, "errors": errors})


@statrequest_feedback.route("/pengaduan/loket", methods=["GET", "POST"])
def complaint_record() -> Any:
    """The front desk records a complaint received in person, by letter, email or phone."""
    allow("statrequest_complaint_record")
    form = CounterComplaintForm()
    form.channel.choices = [(code, _(label)) for code, label in COMPLAINT_CHANNELS.items()
                            if code != COMPLAINT_ONLINE]
    errors: dict[str, list[str]] = {}
    if tk.request.method == "GET":
        form.received_at.data = h_today()
    elif form.validate_on_submit():
        created, errors = submit("statrequest_complaint_record", form.to_data_dict())
        if created is not None:
            tk.h.flash_success(_("The complaint was recorded with number %(number)s; answer due "
                                 "%(due)s.") % {"number": created["number"],
                                                "due": tk.h.statrequest_datetime(created["due_at"])})
            return tk.redirect_to("statrequest_feedback.complaint_read", ref=created["number"])
    else:
        errors = form_errors(form)
    return tk.render("statrequest/feedback/complaint_record.html",
                     {"form": form, "errors": errors})


def h_today() -> str:
    """Today in the office's time zone, as the date field expects it (YYYY-MM-DD)."""
    return dt.datetime.now(ZoneInfo(settings.get("timezone"))).date().isoformat()


def _list(title: str, mine: bool) -> Any:
    page = page_number()
    query: dict[str, Any] = paging(page)
    if mine:
        query["mine"] = True
    state = tk.request.args.get("state", "")
    if state in ("diterima", "ditanggapi", "selesai"):
        query["state"] = state
    channel = tk.request.args.get("channel", "")
    if channel in COMPLAINT_CHANNELS and not mine:
        query["channel"] = channel
    result = call("statrequest_complaint_list", _("Complaint not found"), **query)
    return tk.render("statrequest/feedback/complaint_list.html", {
        "title": title, "result": result, "page": page, "page_size": PAGE_SIZE,
        "mine": mine, "state": state, "channel": channel,
        "channels": list(COMPLAINT_CHANNELS.items()),
        "may_record": not mine and may("statrequest_complaint_record"),
    })


@statrequest_feedback.route("/pengaduan")
def complaints() -> Any:
    """Every complaint, for Diskominfo officials; others are sent to their own."""
    allow("statrequest_complaint_list")
    if not may("statrequest_complaint_list_all"):
        return tk.redirect_to("statrequest_feedback.my_complaints")
    return _list(_("Complaints"), mine=False)


@statrequest_feedback.route("/pengaduan/saya")
def my_complaints() -> Any:
    allow("statrequest_complaint_list")
    return _list(_("My complaints"), mine=True)


def _read(ref: str, form: ResponseForm | None = None,
          errors: dict[str, list[str]] | None = None) -> Any:
    complaint = call("statrequest_complaint_show", _("Complaint not found"), id=ref)
    return tk.render("statrequest/feedback/complaint_read.html", {
        "complaint": complaint, "form": form or ResponseForm(), "errors": errors or {},
    })


@statrequest_feedback.route("/pengaduan/<ref>")
def complaint_read(ref: str) -> Any:
    return _read(ref)


@statrequest_feedback.route("/pengaduan/<ref>/tanggapi", methods=["POST"])
def complaint_respond(ref: str) -> Any:
    complaint = call("statrequest_complaint_show", _("Complaint not found"), id=ref)
    allow("statrequest_complaint_respond", {"id": complaint["id"]})
    form = ResponseForm()
    if not form.validate_on_submit():
        return _read(ref, form, form_errors(form))
    data: dict[str, Any] = {"id": complaint["id"], "close": bool(form.close.data)}
    if form.response.data:
        data["response"] = form.response.data
    answered, errors = submit("statrequest_complaint_respond", data)
    if answered is None:
        return _read(ref, form, errors)
    tk.h.flash_success(_("Your answer was saved; the complainant sees it on the complaint page."))
    return tk.redirect_to("statrequest_feedback.complaint_read", ref=complaint["number"])
