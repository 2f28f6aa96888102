"""The public landing page of the service."""
from __future__ import annotations

import ckantoolkit as tk
from flask import Blueprint

from ckanext.statrequest import settings

statrequest = Blueprint("statrequest", __name__, url_prefix="/permintaan-data")


@statrequest.route("/", strict_slashes=False)
def index() -> str:
    """What the service is and how it works."""
    return tk.render("statrequest/index.html", {"sla_days": settings.sla_days()})
