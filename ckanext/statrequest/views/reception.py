"""The front desk's pages: registering a request received by letter, email or in person, its
printable receipt (with a QR code to the tracking page), and the incoming-letter register
(filters, print view, CSV).

Thin: the rules are the statrequest_register* actions'; the pages ask them and render.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckantoolkit as tk
import segno
from flask import Blueprint, Response

from ckanext.statrequest import settings
from ckanext.statrequest.core.workflow import OFFICIAL
from ckanext.statrequest.lib import guest, stats
from ckanext.statrequest.lib import opd as agencies
from ckanext.statrequest.views import uploads
from ckanext.statrequest.views.common import (
    PAGE_SIZE,
    allow,
    call,
    context,
    field_errors,
    form_errors,
    page_number,
    paging,
    refuse,
    submit,
)
from ckanext.statrequest.views.forms import DeskForm

reception = Blueprint("statrequest_reception", __name__, url_prefix="/permintaan-data")
_ = tk._

REGISTER_FILTERS = ("received_from", "received_to", "channel", "state")


@reception.route("/loket", methods=["GET", "POST"])
def new() -> Any:
    """The desk's form: a request that came by letter, email or in person."""
    allow("statrequest_register")
    form = DeskForm().setup_desk([(o.id, o.title) for o in agencies.offered()])
    errors: dict[str, list[str]] = {}
    if tk.request.method == "GET":
        today = settings.calendar().localize(dt.datetime.now(dt.timezone.utc)).date()
        form.received_on.data = form.received_on.data or today.isoformat()
        uploads.forget("desk")  # a fresh form: nothing kept from an earlier attempt
    elif form.validate_on_submit():
        data = uploads.with_kept("desk", form.to_data_dict())
        created, errors = submit("statrequest_register", data)
        if created is None:
            uploads.keep_passing("desk", data)  # the good scans wait for the next try
        else:
            uploads.forget("desk")
        if created is not None:
            tk.h.flash_success(_("Registered: %(number)s") % {"number": created["agenda_number"]})
            return tk.redirect_to("statrequest_reception.receipt", ref=created["tracking_number"])
    else:
        errors = form_errors(form)
    datasets = [d for d in (form.dataset_ids.data or "").split(",") if d]
    return tk.render("statrequest/reception/new.html", {
        "form": form, "errors": errors, "datasets": datasets,
        "had_files": tk.request.method == "POST", "kept": uploads.shown("desk"),
        "max_days": settings.reception_max_backdate_days(),
    }), 400 if errors else 200


def _qr(url: str) -> str:
    """An inline SVG QR code (no file, no outside service)."""
    return segno.make(url, error="m").svg_inline(scale=4, border=2, title=url)


@reception.route("/loket/tanda-terima/<ref>")
def receipt(ref: str) -> Any:
    """The printable receipt handed to the requester (bukti penerimaan)."""
    allow("statrequest_register_list")  # desk and officials: the register's own people
    req = call("statrequest_show", id=ref)
    track_url = tk.h.url_for("statrequest_portal.track", nomor=req["tracking_number"],
                             _external=True)
    # without an email address the printed link is the requester's only way online
    link = guest.link(req["id"]) if req["requester_id"] is None and not req.get("email") else None
    return tk.render("statrequest/reception/receipt.html", {
        "req": req, "track_url": track_url, "track_qr": _qr(track_url),
        "guest_link": link, "guest_qr": _qr(link) if link else None,
        "sla_days": settings.sla_days(),
    })


def _register_query() -> dict[str, Any]:
    args = tk.request.args
    return {k: args[k] for k in REGISTER_FILTERS if args.get(k)}


@reception.route("/buku-agenda")
def register() -> Any:
    """The incoming-letter register (buku agenda): every request, portal and desk."""
    allow("statrequest_register_list")
    page = page_number()
    printing = tk.request.args.get("cetak") == "1"
    query = _register_query()
    status = 200
    try:
        result = tk.get_action("statrequest_register_list")(
            context(), query | ({"limit": 1000} if printing else paging(page)))
    except tk.ValidationError as exc:
        errors = field_errors(exc)
        tk.h.flash_error(_("Invalid filter: %(fields)s") % {"fields": ", ".join(errors)})
        result, status = {"count": 0, "results": []}, 400
    wf = settings.workflow()
    return tk.render(
        "statrequest/reception/register_print.html" if printing
        else "statrequest/reception/register.html", {
            "title": _("Incoming-letter register"), "result": result, "page": page,
            "page_size": PAGE_SIZE, "args": tk.request.args, "query": query,
            "states": [(s.name, s.label_for(OFFICIAL, tk.h.lang())) for s in wf.states.values()],
        }), status


@reception.route("/buku-agenda/ekspor.csv")
def register_export() -> Any:
    try:
        result = tk.get_action("statrequest_register_export")(context(), _register_query())
    except tk.NotAuthorized as exc:
        refuse(exc)
    except tk.ValidationError as exc:
        return tk.abort(400, "; ".join(f"{k}: {', '.join(v) if isinstance(v, list) else v}"
                                       for k, v in exc.error_dict.items()))
    return Response(stats.to_csv(result["columns"], result["rows"]),
                    mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{result["filename"]}"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    })
