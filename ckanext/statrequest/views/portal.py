"""Portal pages of the service: requesting, tracking, inboxes, the request page, OPD tab.

Thin by design: each page calls actions and renders; the rules are in the action layer.
"""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk
from flask import Blueprint, Response, session, stream_with_context
from werkzeug.exceptions import abort

from ckanext.statrequest import settings
from ckanext.statrequest.core.workflow import OFFICIAL, REQUESTER_AUDIENCE
from ckanext.statrequest.lib import guest
from ckanext.statrequest.lib import opd as agencies  # `opd` is the OPD tab view below
from ckanext.statrequest.views import uploads
from ckanext.statrequest.views.common import (
    CAME_FROM,
    PAGE_SIZE,
    allow,
    call,
    context,
    form_errors,
    login_to_continue,
    may,
    page_number,
    paging,
    submit,
)
from ckanext.statrequest.views.forms import ActionForm, CorrectionForm, RequestForm, TrackForm

portal = Blueprint("statrequest_portal", __name__, url_prefix="/permintaan-data")
_ = tk._
PREVIEWABLE = frozenset({"application/pdf", "image/png", "image/jpeg"})


def _organizations() -> list[tuple[str, str]]:
    """The OPD a request can concern or be routed to (all of them: no page size applies)."""
    return [(o.id, o.title) for o in agencies.offered()]


@portal.route("/baru", methods=["GET", "POST"])
def new() -> Any:
    if tk.request.method == "GET" and not tk.current_user.is_authenticated \
            and not may("statrequest_create"):
        # no dead end: a visitor is led through the login (or registration) back here
        return login_to_continue(_("Please log in, or create an account, to submit a data "
                                   "request. You will come back to the form afterwards."))
    allow("statrequest_create")  # visitors too, where guests may request
    form = RequestForm().setup(_organizations())
    errors: dict[str, list[str]] = {}
    if tk.request.method == "GET":
        user = tk.current_user
        if user.is_authenticated:
            session.pop(CAME_FROM, None)  # back at the form: the way back is used up
            form.requester_name.data = form.requester_name.data or user.fullname or user.name
            form.email.data = form.email.data or user.email
        uploads.forget("request")  # a fresh form: nothing kept from an earlier attempt
    elif form.validate_on_submit():
        data = uploads.with_kept("request", form.to_data_dict())
        created, errors = submit("statrequest_create", data)
        if created is None:
            uploads.keep_passing("request", data)  # the good files wait for the next try
        else:
            uploads.forget("request")
        if created is not None and created.get("guest_link"):
            return tk.render("statrequest/submitted.html", {
                "req": created, "sla_days": settings.sla_days(), "guest": True})
        if created is not None:
            return tk.redirect_to("statrequest_portal.submitted", ref=created["tracking_number"])
    else:
        errors = form_errors(form)
    datasets = [d for d in (form.dataset_ids.data or "").split(",") if d]
    return tk.render("statrequest/new.html", {
        "form": form, "errors": errors, "datasets": datasets,
        "had_files": tk.request.method == "POST", "kept": uploads.shown("request"),
        "sla_days": settings.sla_days(),
    })


@portal.route("/baru/terkirim/<ref>")
def submitted(ref: str) -> Any:
    request = call("statrequest_show", id=ref)
    return tk.render("statrequest/submitted.html", {"req": request,
                                                    "sla_days": settings.sla_days()})


def _list_page(title: str, base: dict[str, Any], filters: bool,
               objections: dict[str, Any] | None = None) -> Any:
    """A page of requests; the route has asked whether the user may see this list."""
    args = tk.request.args
    page = page_number()
    query = dict(base)
    for key in ("state", "category", "sla", "q", "sort", "organization") if filters else ():
        if args.get(key):
            query[key] = args[key]
    query.update(paging(page))
    try:
        result = tk.get_action("statrequest_list")(context(), query)
    except tk.ValidationError as exc:
        tk.h.flash_error(_("Invalid filter: %(fields)s") % {"fields": ", ".join(exc.error_dict)})
        result = {"count": 0, "results": []}
    wf, audience = settings.workflow(), _list_audience(filters)
    return tk.render("statrequest/list.html", {
        "title": title, "result": result, "page": page, "page_size": PAGE_SIZE,
        "args": args, "filters": filters,
        "states": [(s.name, s.label_for(audience, tk.h.lang())) for s in wf.states.values()],
        "objections": objections,
    })


def _list_audience(filters: bool) -> str:
    """Whose words the state filter is in: a requester's own list is theirs, the officials'
    lists (with filters) follow the reader."""
    if not filters:
        return REQUESTER_AUDIENCE
    me = tk.h.statrequest_me()  # officials and OPD members (as lib.access.Actor.audience)
    return OFFICIAL if me["staff"] or me["opd"] else REQUESTER_AUDIENCE


@portal.route("/saya")
def mine() -> Any:
    allow("statrequest_list")
    return _list_page(_("My requests"), {"requester": tk.current_user.id, "sort": "newest"},
                      filters=False)


@portal.route("/kotak-masuk")
def inbox() -> Any:
    allow("statrequest_list")
    # objections to decide, with their own deadlines, above the requests
    objections = (call("statrequest_objection_list", waiting_for_me=True, limit=100)
                  if may("statrequest_objection_list") else None)
    return _list_page(_("Inbox"), {"waiting_for_me": True, "sort": "urgency"}, filters=False,
                      objections=objections)


@portal.route("/semua")
def all_requests() -> Any:
    allow("statrequest_request_list_all")
    return _list_page(_("All requests"), {}, filters=True)


@portal.route("/lacak", methods=["GET", "POST"])
def track() -> Any:
    """Look a request up by tracking number and email, posted (never in the address)."""
    from ckanext.statrequest.lib.ratelimit import RateLimited

    form = TrackForm()
    found, error, status = None, None, 200
    if tk.request.method == "GET":
        form.nomor.data = tk.request.args.get("nomor") or None  # a link may name the number
        if "email" in tk.request.args:  # an old bookmark or a crafted link: no look-up
            error = _("For your privacy, an email address in the page address is not used. "
                      "Please type it into the form.")
            status = 400
    elif not form.validate_on_submit():  # the CSRF token is missing or has expired
        error = _("The form has expired. Please reload the page and try again.")
        status = 400
    elif form.nomor.data and form.email.data:
        try:
            found = tk.get_action("statrequest_track")(
                {"user": ""}, {"tracking_number": form.nomor.data, "email": form.email.data})
        except RateLimited as exc:
            error, status = exc.error_dict["limit"][0], 429
        except (tk.ObjectNotFound, tk.ValidationError):
            error = _("No request matches this tracking number and email address.")
    return tk.render("statrequest/track.html",
                     {"form": form, "found": found, "error": error}), status


def _read_extra(request: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    """Choices for the action panel: staff members, OPD organisations."""
    extra: dict[str, Any] = {"staff": [], "organizations": [], "routed_organizations": []}
    transitions = call("statrequest_available_transitions", id=request["id"], token=token)
    kinds = {r["kind"] for t in transitions for r in t["requires"]}
    if "assignee" in kinds:
        staff = tk.get_action("statrequest_position_list")(
            context(), {"position": settings.workflow().assignee_position})
        # each name with the open requests already on their desk, to spread the work
        extra["staff"] = [(p["user_name"], _("%(name)s — %(count)s open requests") % {
            "name": p["user_display"], "count": p["open_assigned"]}) for p in staff]
    if "opd" in kinds:
        extra["organizations"] = _organizations()
    if "channel" in kinds:  # data uploaded on behalf of one of the OPD already asked
        extra["routed_organizations"] = [(o["id"], o["title"]) for o in request["organizations"]
                                         if o["routed"]]
    extra["transitions"] = transitions
    return extra


def _publication(request_id: str) -> dict[str, Any] | None:
    """Where the open publication stands, when there is something to publish."""
    state = call("statrequest_publication_show", id=request_id)
    return state if state["publishable"] and state["organizations"] else None


def _render_read(request: dict[str, Any], token: str | None, form: ActionForm,
                 errors: dict[str, list[str]], failed: str | None,
                 correction: CorrectionForm | None = None,
                 correction_errors: dict[str, list[str]] | None = None) -> str:
    events = call("statrequest_event_list", id=request["id"], token=token)
    # the details form, for whoever may correct the request now (the action layer says)
    if correction is None and request.get("may_correct"):
        correction = CorrectionForm()
    if correction is not None:
        correction.setup([]).fill(request)
    return tk.render("statrequest/read.html", {
        "req": request, "events": events, "form": form, "errors": errors, "failed": failed,
        "token": token, "correction": correction, "correction_errors": correction_errors or {},
        # the objection to the answer, for its requester and officials (its own page)
        "objection": call("statrequest_objection_show", id=request["id"])
        if not token and may("statrequest_objection_show", {"id": request["id"]}) else None,
        # links to the open-publication page and the Secretary's identity-access log
        "publication": None if token else _publication(request["id"]),
        "identity_log": not token and may("statrequest_identity_access_list", {"id": request["id"]}),
        **_read_extra(request, token),
    })


@portal.route("/<ref>")
def read(ref: str) -> Any:
    request = call("statrequest_show", id=ref)
    return _render_read(request, None, ActionForm(), {}, None)


@portal.route("/tamu/<token>")
def guest_read(token: str) -> Any:
    """The request page of a guest, opened with the signed link from their email."""
    request_id = _guest_request(token)
    request = call("statrequest_show", id=request_id, token=token)
    return _render_read(request, token, ActionForm(), {}, None)


def _fire(ref: str, token: str | None) -> Any:
    request = call("statrequest_show", id=ref, token=token)
    form = ActionForm()
    if form.validate_on_submit():
        data = form.to_data_dict(request["id"])
        if token:
            data["token"] = token
        asked = _unconfirmed(request, data, token)
        if asked is not None:
            return asked
        try:
            moved, errors = submit("statrequest_transition", data)
        except tk.NotAuthorized:
            return tk.abort(403, _("You may not do this on this request."))
        if moved is not None:
            # what was done and where the request is now, in the workflow's own words
            step = settings.workflow().transitions.get(data.get("transition") or "")
            tk.h.flash_success(_("%(step)s — done. The request is now: %(state)s") % {
                "step": step.label.get(tk.h.lang()) if step else "", "state": moved["state_label"]})
            return _back_to_page(request, token)
    else:
        errors = form_errors(form)
    form.passphrase.data = None  # never echoed back
    return _render_read(request, token, form, errors, form.transition.data)


def _unconfirmed(request: dict[str, Any], data: dict[str, Any], token: str | None) -> Any:
    """A step that ends the request in one click (`asks_confirmation`: the withdrawal) posted
    without `confirmed` (the page's script sets it when CKAN's confirm-action dialog asked): a
    page asks first, so that without JavaScript it still never happens on one click. Only for
    a step this user may take now; anything else goes on to the action, which refuses it."""
    if tk.request.form.get("confirmed") == "1":
        return None
    step = settings.workflow().transitions.get(data.get("transition") or "")
    if step is None or not step.asks_confirmation:
        return None
    offered = call("statrequest_available_transitions", id=request["id"], token=token)
    if step.name not in {t["name"] for t in offered}:
        return None
    ref = {"token": token} if token else {"ref": request["tracking_number"]}
    prefix = "statrequest_portal.guest_" if token else "statrequest_portal."
    return tk.render("statrequest/confirm_step.html", {
        "req": request, "step": {"name": step.name, "label": step.label.get(tk.h.lang())},
        "version": data.get("version"), "note": data.get("note"),
        "action": tk.h.url_for(prefix + "fire", **ref),
        "back": tk.h.url_for(prefix + "read", **ref),
    })


def _back_to_page(request: dict[str, Any], token: str | None) -> Any:
    """After a post that worked: the request page (a guest's by their link)."""
    if token:
        return tk.redirect_to("statrequest_portal.guest_read", token=token)
    return tk.redirect_to("statrequest_portal.read", ref=request["tracking_number"])


@portal.route("/<ref>/aksi", methods=["POST"])
def fire(ref: str) -> Any:
    return _fire(ref, None)


@portal.route("/tamu/<token>/aksi", methods=["POST"])
def guest_fire(token: str) -> Any:
    return _fire(_guest_request(token), token)


def _correct(ref: str, token: str | None) -> Any:
    """The corrected details posted from the request page (statrequest_update)."""
    request = call("statrequest_show", id=ref, token=token)
    allow("statrequest_update", {"id": request["id"], "token": token})
    if not request.get("may_correct"):  # the action's own rule, which no account bypasses
        tk.abort(403, _("You may not correct this request now."))
    form = CorrectionForm()
    if form.validate_on_submit():
        data = form.to_data_dict(request["id"]) | ({"token": token} if token else {})
        try:
            changed, errors = submit("statrequest_update", data)
        except tk.NotAuthorized as exc:
            return tk.abort(403, str(exc))
        if changed is not None:
            tk.h.flash_success(_("Your corrections were saved. Send the request again when "
                                 "it is complete."))
            return _back_to_page(request, token)
    else:
        errors = form_errors(form)
    return _render_read(request, token, ActionForm(), {}, None, form, errors), 400


@portal.route("/<ref>/perbaiki", methods=["POST"])
def correct(ref: str) -> Any:
    return _correct(ref, None)


@portal.route("/tamu/<token>/perbaiki", methods=["POST"])
def guest_correct(token: str) -> Any:
    return _correct(_guest_request(token), token)


def _guest_request(token: str) -> str:
    """The request of a guest link; an expired link ends in a page pointing to tracking."""
    status, request_id = guest.check(token)
    if status is guest.Status.EXPIRED:
        abort(Response(tk.render("statrequest/guest_expired.html", {
            "days": guest.lifetime_days()}), status=410))
    if request_id is None:
        tk.abort(404, _("This link is not valid."))
    return request_id  # type: ignore[return-value]


@portal.route("/<ref>/lembar-disposisi")
def disposition_sheet(ref: str) -> Any:
    request = call("statrequest_show", id=ref)
    allow("statrequest_disposition_sheet", {"id": request["id"]})
    events = call("statrequest_event_list", id=request["id"])
    return tk.render("statrequest/disposition_sheet.html", {"req": request, "events": events})


@portal.route("/berkas/<attachment_id>")
def download(attachment_id: str) -> Any:
    got = call("statrequest_attachment_download", id=attachment_id,
                **({"token": tk.request.args["token"]} if tk.request.args.get("token") else {}))
    # `?lihat=1` opens a PDF or image in the browser's own viewer (the officials' preview);
    # anything else, and every file by default, is a download. Types were sniffed at upload.
    inline = tk.request.args.get("lihat") == "1" and got["media_type"] in PREVIEWABLE
    headers = {
        "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{got["name"]}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    if inline:  # nothing inside the file may load or run anything else
        headers["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self'; object-src 'self'; style-src 'unsafe-inline'")
    from ckanext.statrequest.lib import attachments

    internal = attachments.accel_redirect(got["id"])  # access checked and recorded above
    if internal:  # nginx sends the bytes; this worker is free at once
        got["stream"].close()
        return Response(b"", mimetype=got["media_type"],
                        headers={**headers, "X-Accel-Redirect": internal})
    return Response(stream_with_context(got["stream"]), mimetype=got["media_type"],
                    headers=headers)


@portal.route("/opd/<org>")
def opd(org: str) -> Any:
    allow("statrequest_opd_requests", {"organization": org})
    organization = tk.get_action("organization_show")(context(),
                                                      {"id": org, "include_datasets": False})
    query = {"organization": organization["id"], "sort": "urgency", "limit": 50}
    result = tk.get_action("statrequest_list")(context(), query)
    waiting = tk.get_action("statrequest_list")(context(), {**query, "waiting_for_me": True})
    return tk.render("statrequest/opd.html", {
        "group_dict": organization, "group_type": "organization",
        "result": result, "waiting": {r["id"] for r in waiting["results"]},
    })
