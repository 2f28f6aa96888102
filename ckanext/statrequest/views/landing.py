"""Flask blueprints: thin pages that call the statrequest actions."""
from __future__ import annotations

import ckantoolkit as tk
from flask import Blueprint

statrequest = Blueprint("statrequest", __name__, url_prefix="/permintaan-data")




@statrequest.route("/", strict_slashes=False)
def index() -> str:
    """The public landing page: what the service is and how it works."""
    return tk.render(
        "statrequest/index.html",
        {"sla_days": tk.config.get("ckanext.statrequest.sla_days")},
    )
