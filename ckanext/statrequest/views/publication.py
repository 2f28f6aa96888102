"""Two pages of a finished request that officials and the requester reach from its page:

- the open publication of the delivered data: the requester agrees, then the OPD that provided
  the files (or the staff on its behalf) publishes them as an open dataset of the OPD, so the
  demand of one requester grows the public catalogue;
- the identity-access log: who opened the requester's identity documents or saw the full
  identity number (the Secretary, who answers for personal data).

Thin: the rules are the actions' (statrequest_publication_show, _publish_consent,
_publish_open, _identity_access_list); the pages ask them and render.
"""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk
from flask import Blueprint

from ckanext.statrequest.views.common import call, context, form_errors, refuse, submit
from ckanext.statrequest.views.forms import PublicationForm

publication = Blueprint("statrequest_publication", __name__, url_prefix="/permintaan-data")
_ = tk._


def _licenses() -> list[tuple[str, str]]:
    return [(lic["id"], lic["title"]) for lic in tk.get_action("license_list")(context(), {})]


@publication.route("/<ref>/publikasi", methods=["GET", "POST"])
def page(ref: str) -> Any:
    request = call("statrequest_show", id=ref, masked=True)
    form = PublicationForm()
    form.license_id.choices = [("", _("Choose a licence"))] + _licenses()
    errors: dict[str, list[str]] = {}
    if tk.request.method == "POST":
        if not form.validate_on_submit():
            errors = form_errors(form)
        else:
            publish = form.step.data == "publish"
            done = None
            try:
                done, errors = submit("statrequest_publish_open" if publish
                                      else "statrequest_publish_consent",
                                      form.to_data_dict(request["id"]))
            except tk.NotAuthorized as exc:
                refuse(exc)
            except tk.ObjectNotFound:
                errors = {"organization": [_("Organization not found")]}
            if done is not None:
                tk.h.flash_success(_("The data is now published as open data.") if publish else
                                   _("Thank you: the agency may now publish the data as open data."))
                return tk.redirect_to("statrequest_publication.page",
                                      ref=request["tracking_number"])
    state = call("statrequest_publication_show", id=request["id"])
    if not form.title.data:
        form.title.data = request["title"]
    return tk.render("statrequest/publication.html", {
        "req": request, "p": state, "form": form, "errors": errors,
    }), 400 if errors else 200


@publication.route("/<ref>/akses-identitas")
def identity_access(ref: str) -> Any:
    request = call("statrequest_show", id=ref, masked=True)
    rows = call("statrequest_identity_access_list", id=request["id"])
    return tk.render("statrequest/identity_access.html", {"req": request, "rows": rows})
