"""The objection page of a request (keberatan): the requester files one, the Head of Agency
decides it with a signed letter; both see its state, deadline and decision letter.

Thin: the rules are the statrequest_objection_* actions'; the page asks them and renders.
"""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk
from flask import Blueprint

from ckanext.statrequest.views.common import call, form_errors, refuse, submit
from ckanext.statrequest.views.forms import ObjectionForm

objection = Blueprint("statrequest_objection", __name__, url_prefix="/permintaan-data")
_ = tk._


@objection.route("/<ref>/keberatan", methods=["GET", "POST"])
def page(ref: str) -> Any:
    request = call("statrequest_show", id=ref)
    state = call("statrequest_objection_show", id=request["id"])
    form = ObjectionForm()
    form.grounds.choices = [(g["code"], g["label"]) for g in state["grounds"]]
    form.decision.choices = [(d["code"], d["label"]) for d in state["decisions"]]
    errors: dict[str, list[str]] = {}
    if tk.request.method == "POST":
        if not form.validate_on_submit():
            errors = form_errors(form)
        else:
            action = ("statrequest_objection_decide" if form.step.data == "decide"
                      else "statrequest_objection_create")
            try:
                done, errors = submit(action, form.to_data_dict(request["id"]))
            except tk.NotAuthorized as exc:
                refuse(exc)
            if done is not None:
                tk.h.flash_success(_("The objection has been decided.") if form.step.data ==
                                   "decide" else _("Your objection has been filed."))
                return tk.redirect_to("statrequest_objection.page",
                                      ref=request["tracking_number"])
        form.passphrase.data = None  # never echoed back
    return tk.render("statrequest/objection.html", {
        "req": request, "o": state, "form": form, "errors": errors,
    }), 400 if errors else 200
