"""Portal pages of the service: requesting, tracking, inboxes, the request page, OPD tab.

Thin by design: each page calls actions and renders; the rules are in the action layer.
"""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk
from flask import Blueprint, Response, stream_with_context
from werkzeug.exceptions import abort

from ckanext.statrequest import settings
from ckanext.statrequest.lib import access, guest
from ckanext.statrequest.logic.validators import MAX_PAGE, query_int
from ckanext.statrequest.views.forms import ActionForm, RequestForm, TrackForm

portal = Blueprint("statrequest_portal", __name__, url_prefix="/permintaan-data")
_ = tk._

PAGE_SIZE = 20


def _context() -> dict[str, Any]:
    return {"user": tk.current_user.name if tk.current_user.is_authenticated else ""}


def _call(action: str, **data: Any) -> Any:
    """Run an action as the current user; refusals become 403/404 pages."""
    try:
        return tk.get_action(action)(_context(), data)
    except tk.NotAuthorized as exc:
        if not tk.current_user.is_authenticated:
            return tk.abort(403, _("Please log in first."))
        return tk.abort(403, str(exc) or _("You may not see this page."))
    except tk.ObjectNotFound:
        return tk.abort(404, _("Request not found"))


def _require_login() -> None:
    if not tk.current_user.is_authenticated:
        tk.abort(403, _("Please log in first."))


def _organizations() -> list[tuple[str, str]]:
    """The OPD a request can concern: every organisation except Diskominfo itself."""
    orgs = tk.get_action("organization_list")({}, {"all_fields": True, "limit": 1000})
    return [(o["id"], o["title"] or o["name"]) for o in orgs
            if o["name"] != settings.diskominfo_org()]


def _field_errors(exc: tk.ValidationError) -> dict[str, list[str]]:
    return {k: v if isinstance(v, list) else [str(v)] for k, v in (exc.error_dict or {}).items()}


@portal.route("/baru", methods=["GET", "POST"])
def new() -> Any:
    if not guest.enabled():
        _require_login()
    form = RequestForm().setup(_organizations())
    errors: dict[str, list[str]] = {}
    if tk.request.method == "GET":
        user = tk.current_user
        if user.is_authenticated:
            form.requester_name.data = form.requester_name.data or user.fullname or user.name
            form.email.data = form.email.data or user.email
    elif form.validate_on_submit():
        try:
            created = tk.get_action("statrequest_create")(_context(), form.to_data_dict())
        except tk.ValidationError as exc:
            errors = _field_errors(exc)
        else:
            if created.get("guest_link"):
                return tk.render("statrequest/submitted.html", {
                    "req": created, "sla_days": settings.sla_days(), "guest": True})
            return tk.redirect_to("statrequest_portal.submitted", ref=created["tracking_number"])
    else:
        errors = {k: list(v) for k, v in form.errors.items()}
    datasets = [d for d in (form.dataset_ids.data or "").split(",") if d]
    return tk.render("statrequest/new.html", {
        "form": form, "errors": errors, "datasets": datasets,
        "had_files": tk.request.method == "POST",
        "sla_days": settings.sla_days(),
    })


@portal.route("/baru/terkirim/<ref>")
def submitted(ref: str) -> Any:
    _require_login()
    request = _call("statrequest_show", id=ref)
    return tk.render("statrequest/submitted.html", {"req": request,
                                                    "sla_days": settings.sla_days()})


def _list_page(template: str, title: str, base: dict[str, Any], filters: bool) -> Any:
    _require_login()
    args = tk.request.args
    page = query_int(args, "page", 1, 1, MAX_PAGE)
    query = dict(base)
    for key in ("state", "category", "sla", "q", "sort", "organization") if filters else ():
        if args.get(key):
            query[key] = args[key]
    query.update(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    try:
        result = tk.get_action("statrequest_list")(_context(), query)
    except tk.ValidationError as exc:
        tk.h.flash_error(_("Invalid filter: %(fields)s") % {"fields": ", ".join(exc.error_dict)})
        result = {"count": 0, "results": []}
    wf = settings.workflow()
    return tk.render(template, {
        "title": title, "result": result, "page": page, "page_size": PAGE_SIZE,
        "args": args, "filters": filters,
        "states": [(s.name, s.label.get(tk.h.lang())) for s in wf.states.values()],
    })


@portal.route("/saya")
def mine() -> Any:
    _require_login()
    return _list_page("statrequest/list.html", _("My requests"),
                      {"requester": tk.current_user.id, "sort": "newest"}, filters=False)


@portal.route("/kotak-masuk")
def inbox() -> Any:
    return _list_page("statrequest/list.html", _("Inbox"),
                      {"waiting_for_me": True, "sort": "urgency"}, filters=False)


@portal.route("/semua")
def all_requests() -> Any:
    _require_login()
    if not access.actor_for(tk.current_user.name).is_staff:
        tk.abort(403, _("Only Diskominfo officials may see all requests."))
    return _list_page("statrequest/list.html", _("All requests"), {}, filters=True)


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
    extra: dict[str, Any] = {"staff": [], "organizations": []}
    transitions = _call("statrequest_available_transitions", id=request["id"], token=token)
    kinds = {r["kind"] for t in transitions for r in t["requires"]}
    if "assignee" in kinds:
        staff = tk.get_action("statrequest_position_list")(
            _context(), {"position": settings.workflow().assignee_position})
        extra["staff"] = [(p["user_name"], p["user_display"]) for p in staff]
    if "opd" in kinds:
        extra["organizations"] = _organizations()
    extra["transitions"] = transitions
    return extra


def _render_read(request: dict[str, Any], token: str | None, form: ActionForm,
                 errors: dict[str, list[str]], failed: str | None) -> str:
    events = _call("statrequest_event_list", id=request["id"], token=token)
    return tk.render("statrequest/read.html", {
        "req": request, "events": events, "form": form, "errors": errors, "failed": failed,
        "token": token, **_read_extra(request, token),
    })


@portal.route("/<ref>")
def read(ref: str) -> Any:
    request = _call("statrequest_show", id=ref)
    return _render_read(request, None, ActionForm(), {}, None)


@portal.route("/tamu/<token>")
def guest_read(token: str) -> Any:
    """The request page of a guest, opened with the signed link from their email."""
    request_id = _guest_request(token)
    request = _call("statrequest_show", id=request_id, token=token)
    return _render_read(request, token, ActionForm(), {}, None)


def _fire(ref: str, token: str | None) -> Any:
    request = _call("statrequest_show", id=ref, token=token)
    form = ActionForm()
    if form.validate_on_submit():
        data = form.to_data_dict(request["id"])
        if token:
            data["token"] = token
        try:
            tk.get_action("statrequest_transition")(_context(), data)
        except tk.ValidationError as exc:
            errors = _field_errors(exc)
        except tk.NotAuthorized:
            return tk.abort(403, _("You may not do this on this request."))
        else:
            tk.h.flash_success(_("Done: the request has moved on."))
            if token:
                return tk.redirect_to("statrequest_portal.guest_read", token=token)
            return tk.redirect_to("statrequest_portal.read", ref=request["tracking_number"])
    else:
        errors = {k: list(v) for k, v in form.errors.items()}
    form.passphrase.data = None  # never echoed back
    return _render_read(request, token, form, errors, form.transition.data)


@portal.route("/<ref>/aksi", methods=["POST"])
def fire(ref: str) -> Any:
    _require_login()
    return _fire(ref, None)


@portal.route("/tamu/<token>/aksi", methods=["POST"])
def guest_fire(token: str) -> Any:
    return _fire(_guest_request(token), token)


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
    request = _call("statrequest_show", id=ref)
    if not access.actor_for(tk.current_user.name if tk.current_user.is_authenticated else None
                            ).is_staff:
        tk.abort(403, _("Only Diskominfo officials may print the disposition sheet."))
    events = _call("statrequest_event_list", id=request["id"])
    return tk.render("statrequest/disposition_sheet.html", {"req": request, "events": events})


@portal.route("/berkas/<attachment_id>")
def download(attachment_id: str) -> Any:
    got = _call("statrequest_attachment_download", id=attachment_id,
                **({"token": tk.request.args["token"]} if tk.request.args.get("token") else {}))
    headers = {
        "Content-Disposition": f'attachment; filename="{got["name"]}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(stream_with_context(got["stream"]), mimetype=got["media_type"],
                    headers=headers)


@portal.route("/opd/<org>")
def opd(org: str) -> Any:
    _require_login()
    organization = tk.get_action("organization_show")({"user": _context()["user"]},
                                                      {"id": org, "include_datasets": False})
    actor = access.actor_for(tk.current_user.name)
    if organization["id"] not in actor.opd_ids and not actor.sysadmin:
        tk.abort(403, _("Only admins and editors of this organisation may see its requests."))
    query = {"organization": organization["id"], "sort": "urgency", "limit": 50}
    result = tk.get_action("statrequest_list")(_context(), query)
    waiting = tk.get_action("statrequest_list")(_context(), {**query, "waiting_for_me": True})
    return tk.render("statrequest/opd.html", {
        "group_dict": organization, "group_type": "organization",
        "result": result, "waiting": {r["id"] for r in waiting["results"]},
    })
