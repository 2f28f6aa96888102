"""Administration pages: positions and acting officials, signing credentials, holidays, the
active workflow. Each page asks the auth function of the action it runs (the portal
administrator's) before it reads the form."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk
from flask import Blueprint

from ckanext.statrequest import settings
from ckanext.statrequest.core.vocabulary import CREDENTIAL_BACKENDS, HOLIDAY_KINDS, POSITION_KINDS
from ckanext.statrequest.logic.validators import YEAR_MAX, YEAR_MIN, query_int
from ckanext.statrequest.views.common import Errors, allow, context, labels, submit
from ckanext.statrequest.views.forms import CredentialForm, DataForm, HolidayForm, PositionForm

admin = Blueprint("statrequest_admin", __name__, url_prefix="/permintaan-data/admin")
_ = tk._


def _page(position_form: PositionForm | None = None, holiday_form: HolidayForm | None = None,
          errors: Errors | None = None, credential_form: CredentialForm | None = None) -> str:
    wf = settings.workflow()
    language = tk.h.lang()
    position_labels = {c: label.get(language) for c, label in wf.positions.items()}
    kind_labels, backend_labels = labels(POSITION_KINDS), labels(CREDENTIAL_BACKENDS)
    kind_words = labels(HOLIDAY_KINDS)
    position_form = position_form or PositionForm()
    position_form.position.choices = list(position_labels.items())
    position_form.kind.choices = list(kind_labels.items())
    credential_form = credential_form or CredentialForm()
    credential_form.backend.choices = list(backend_labels.items())
    holiday_form = holiday_form or HolidayForm()
    holiday_form.kind.choices = list(kind_words.items())
    year = query_int(tk.request.args, "tahun", 0, YEAR_MIN, YEAR_MAX) or None
    return tk.render("statrequest/admin.html", {
        "positions": tk.get_action("statrequest_position_list")(
            context(), {"include_inactive": True}),
        "position_labels": position_labels,
        "holidays": tk.get_action("statrequest_holiday_list")(context(), {"year": year} if year else {}),
        "year": year, "kind_words": kind_words,
        "workflow": tk.get_action("statrequest_workflow_show")(context(), {}),
        "position_form": position_form, "holiday_form": holiday_form, "errors": errors or {},
        "kind_labels": kind_labels, "backend_labels": backend_labels,
        "credential_form": credential_form,
        "credentials": tk.get_action("statrequest_credential_list")(context(), {}),
        "settings": {
            "diskominfo_org": settings.diskominfo_org(),
            "position_min_capacity": settings.position_min_capacity(),
            "sla_days": settings.sla_days(), "timezone": settings.get("timezone"),
            "office_hours": settings.get("office_hours"),
            "max_file_size_mb": settings.get("max_file_size_mb"),
        },
    })


@admin.route("/")
def index() -> str:
    allow("statrequest_credential_list")  # the most guarded of what the page lists
    return _page()


def _save(action: str, form: DataForm, fields: tuple[str, ...], done: str,
          form_name: str) -> Any:
    """Run `action` with the filled fields of the posted form: back to the page with a
    message, or the page again with the action's errors beside the fields."""
    allow(action)
    if form.validate_on_submit():
        saved, errors = submit(action, form.filled(fields))
        if saved is None:
            return _page(errors=errors, **{form_name: form})
        tk.h.flash_success(done)
    return tk.redirect_to("statrequest_admin.index")


def _remove(action: str, data: dict[str, Any], not_found: str, done: str,
            missing: tuple[type[Exception], ...] = (tk.ObjectNotFound,)) -> Any:
    """Run a removal that reads no form: its CSRF token is checked by the guard of every
    extension POST (views/__init__.py), which does not depend on CKAN's per-view exemptions."""
    allow(action, data)
    try:
        tk.get_action(action)(context(), data)
    except missing:
        tk.abort(404, not_found)
    tk.h.flash_success(done)
    return tk.redirect_to("statrequest_admin.index")


@admin.route("/jabatan", methods=["POST"])
def assign() -> Any:
    return _save("statrequest_position_assign", PositionForm(), (
        "position", "user", "valid_from", "valid_to", "kind", "stands_in_for", "nip", "rank",
        "note"), _("Position assigned."), "position_form")


@admin.route("/jabatan/<assignment_id>/cabut", methods=["POST"], endpoint="revoke")
@admin.route("/kunci/<credential_id>/cabut", methods=["POST"], endpoint="revoke_credential")
def revoke(assignment_id: str | None = None, credential_id: str | None = None) -> Any:
    """Withdraw a position assignment or a signing credential (both stay on record)."""
    if credential_id is not None:
        return _remove("statrequest_credential_revoke", {"id": credential_id},
                       _("Signing credential not found"), _("Signing credential revoked."))
    return _remove("statrequest_position_revoke", {"id": assignment_id},
                   _("Position assignment not found"), _("Position revoked."))


@admin.route("/kunci", methods=["POST"])
def set_credential() -> Any:
    """A person's own signing credential (key file, token or NIK)."""
    return _save("statrequest_credential_set", CredentialForm(), (
        "user", "backend", "reference", "key_label", "cert_label", "certificate"),
        _("Signing credential registered."), "credential_form")


@admin.route("/libur", methods=["POST"])
def add_holiday() -> Any:
    return _save("statrequest_holiday_create", HolidayForm(), ("day", "name", "kind"),
                 _("Day added; deadlines of open requests were recomputed."), "holiday_form")


@admin.route("/libur/<day>/hapus", methods=["POST"])
def delete_holiday(day: str) -> Any:
    # a day that is no date names no holiday either
    return _remove("statrequest_holiday_delete", {"day": day}, _("Holiday not found"),
                   _("Day removed; deadlines of open requests were recomputed."),
                   missing=(tk.ObjectNotFound, tk.ValidationError))
