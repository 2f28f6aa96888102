"""The public landing page of the service, and where a user goes after logging in."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk
from flask import Blueprint, session

from ckanext.statrequest import settings
from ckanext.statrequest.views.common import CAME_FROM, call, may

statrequest = Blueprint("statrequest", __name__, url_prefix="/permintaan-data")


@statrequest.route("/", strict_slashes=False)
def index() -> str:
    """What the service is and how it works."""
    return tk.render("statrequest/index.html", {"sla_days": settings.sla_days()})


@statrequest.route("/formulir")
def blank_form() -> Any:
    """The blank data request form to print, fill in and upload (public: it holds no data)."""
    from flask import Response

    from ckanext.statrequest.lib import blankform

    content, media, name = blankform.download()
    return Response(content, mimetype=media, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "public, max-age=3600"})


@statrequest.route("/mulai")
def start() -> Any:
    """CKAN's route after login and registration (the plugin claims it): back to the page that
    sent the visitor to log in, else where the user's work is. Officials: their inbox;
    requesters: their requests; an OPD with a request waiting: its inbox; anyone else keeps
    CKAN's dashboard."""
    if not tk.current_user.is_authenticated:
        return tk.redirect_to("user.login", came_from=tk.h.url_for("statrequest.start"))
    came_from = session.pop(CAME_FROM, None)
    if came_from and tk.h.url_is_local(came_from):
        return tk.h.redirect_to(came_from)
    if may("statrequest_request_list_all"):  # Diskominfo officials
        return tk.redirect_to("statrequest_portal.inbox")
    if call("statrequest_list", requester=tk.current_user.id, limit=1)["count"]:
        return tk.redirect_to("statrequest_portal.mine")
    if call("statrequest_list", waiting_for_me=True, limit=1)["count"]:
        return tk.redirect_to("statrequest_portal.inbox")
    return tk.redirect_to(settings.CKAN_ROUTE_AFTER_LOGIN)
