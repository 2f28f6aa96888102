"""Administration pages: positions and acting officials, holidays, the active workflow."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk
from flask import Blueprint

from ckanext.statrequest import settings
from ckanext.statrequest.lib import access
from ckanext.statrequest.logic.validators import YEAR_MAX, YEAR_MIN, query_int
from ckanext.statrequest.views.forms import CredentialForm, HolidayForm, PositionForm

admin = Blueprint("statrequest_admin", __name__, url_prefix="/permintaan-data/admin")
_ = tk._

HOLIDAY_KINDS = ("cuti_bersama", "libur_daerah", "libur_lain", "hari_kerja")


def _context() -> dict[str, Any]:
    return {"user": tk.current_user.name if tk.current_user.is_authenticated else ""}


@admin.before_request
def _only_administrators() -> None:
    user = tk.current_user
    if not user.is_authenticated or not access.actor_for(user.name).can_administer:
        tk.abort(403, _("Only the portal administrator may do this."))


def _page(position_form: PositionForm | None = None, holiday_form: HolidayForm | None = None,
          errors: dict[str, list[str]] | None = None,
          credential_form: CredentialForm | None = None) -> str:
    wf = settings.workflow()
    language = tk.h.lang()
    position_form = position_form or PositionForm()
    position_form.position.choices = [(c, label.get(language)) for c, label in wf.positions.items()]
    kind_labels = {"definitif": _("Definitive"), "plt": _("Plt. (acting, pelaksana tugas)"),
                   "plh": _("Plh. (daily stand-in, pelaksana harian)")}
    position_form.kind.choices = list(kind_labels.items())
    credential_form = credential_form or CredentialForm()
    backend_labels = {"pkcs12": _("PKCS#12 key file"), "pkcs11": _("PKCS#11 token"),
                      "remote": _("Remote signing service (NIK)")}
    credential_form.backend.choices = list(backend_labels.items())
    holiday_form = holiday_form or HolidayForm()
    kind_words = {"cuti_bersama": _("Joint leave (cuti bersama)"),
                  "libur_daerah": _("Regional holiday"), "libur_lain": _("Other day off"),
                  "hari_kerja": _("Working day despite the national calendar")}
    holiday_form.kind.choices = [(k, kind_words[k]) for k in HOLIDAY_KINDS]
    year = query_int(tk.request.args, "tahun", 0, YEAR_MIN, YEAR_MAX) or None
    return tk.render("statrequest/admin.html", {
        "positions": tk.get_action("statrequest_position_list")(
            _context(), {"include_inactive": True}),
        "position_labels": {c: label.get(language) for c, label in wf.positions.items()},
        "holidays": tk.get_action("statrequest_holiday_list")(_context(), {"year": year} if year else {}),
        "year": year, "kind_words": kind_words,
        "workflow": tk.get_action("statrequest_workflow_show")(_context(), {}),
        "position_form": position_form, "holiday_form": holiday_form, "errors": errors or {},
        "kind_labels": kind_labels, "backend_labels": backend_labels,
        "credential_form": credential_form,
        "credentials": tk.get_action("statrequest_credential_list")(_context(), {}),
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
    return _page()


def _errors(exc: tk.ValidationError) -> dict[str, list[str]]:
    return {k: v if isinstance(v, list) else [str(v)] for k, v in exc.error_dict.items()}


@admin.route("/jabatan", methods=["POST"])
def assign() -> Any:
    form = PositionForm()
    if form.validate_on_submit():
        data = {k: getattr(form, k).data for k in (
            "position", "user", "valid_from", "valid_to", "kind", "stands_in_for", "nip", "rank",
            "note") if getattr(form, k).data}
        try:
            tk.get_action("statrequest_position_assign")(_context(), data)
        except tk.ValidationError as exc:
            return _page(position_form=form, errors=_errors(exc))
        tk.h.flash_success(_("Position assigned."))
    return tk.redirect_to("statrequest_admin.index")


@admin.route("/jabatan/<assignment_id>/cabut", methods=["POST"])
def revoke(assignment_id: str) -> Any:
    # reads no form: its CSRF token is checked by the guard of every extension POST
    # (views/__init__.py), which does not depend on CKAN's per-view exemptions
    try:
        tk.get_action("statrequest_position_revoke")(_context(), {"id": assignment_id})
    except tk.ObjectNotFound:
        tk.abort(404, _("Position assignment not found"))
    tk.h.flash_success(_("Position revoked."))
    return tk.redirect_to("statrequest_admin.index")


@admin.route("/kunci", methods=["POST"])
def set_credential() -> Any:
    """A person's own signing credential (key file, token or NIK)."""
    form = CredentialForm()
    if form.validate_on_submit():
        data = {k: getattr(form, k).data for k in (
            "user", "backend", "reference", "key_label", "cert_label", "certificate")
            if getattr(form, k).data}
        try:
            tk.get_action("statrequest_credential_set")(_context(), data)
        except tk.ValidationError as exc:
            return _page(credential_form=form, errors=_errors(exc))
        tk.h.flash_success(_("Signing credential registered."))
    return tk.redirect_to("statrequest_admin.index")


@admin.route("/kunci/<credential_id>/cabut", methods=["POST"])
def revoke_credential(credential_id: str) -> Any:
    try:
        tk.get_action("statrequest_credential_revoke")(_context(), {"id": credential_id})
    except tk.ObjectNotFound:
        tk.abort(404, _("Signing credential not found"))
    tk.h.flash_success(_("Signing credential revoked."))
    return tk.redirect_to("statrequest_admin.index")


@admin.route("/libur", methods=["POST"])
def add_holiday() -> Any:
    form = HolidayForm()
    if form.validate_on_submit():
        try:
            tk.get_action("statrequest_holiday_create")(_context(), {
                "day": form.day.data, "name": form.name.data, "kind": form.kind.data})
        except tk.ValidationError as exc:
            return _page(holiday_form=form, errors=_errors(exc))
        tk.h.flash_success(_("Day added; deadlines of open requests were recomputed."))
    return tk.redirect_to("statrequest_admin.index")


@admin.route("/libur/<day>/hapus", methods=["POST"])
def delete_holiday(day: str) -> Any:
    try:
        tk.get_action("statrequest_holiday_delete")(_context(), {"day": day})
    except (tk.ObjectNotFound, tk.ValidationError):
        tk.abort(404, _("Holiday not found"))
    tk.h.flash_success(_("Day removed; deadlines of open requests were recomputed."))
    return tk.redirect_to("statrequest_admin.index")
