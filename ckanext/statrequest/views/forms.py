"""Flask-WTF forms of the portal pages.

The forms carry CSRF and turn the browser's input into the action's data dict; the rules
themselves are the action schemas', and their errors are shown beside the fields, so the
web and the API can never disagree.
"""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

_ = tk._

TEXT_FIELDS = ("requester_name", "identity_type", "identity_number", "institution", "category",
               "email", "phone", "address", "title", "description", "period", "breakdown",
               "data_format", "purpose")
FILE_FIELDS = ("identity_document", "request_letter", "data_form")


class RequestForm(FlaskForm):
    """The data request (labels are set per request, in the user's language)."""

    requester_name = StringField()
    identity_type = SelectField(validate_choice=False)
    identity_number = StringField()
    institution = StringField()
    category = SelectField(validate_choice=False)
    email = EmailField()
    phone = StringField()
    address = TextAreaField()
    title = StringField()
    description = TextAreaField()
    period = StringField()
    breakdown = StringField()
    data_format = SelectField(validate_choice=False)
    purpose = TextAreaField()
    dataset_ids = StringField()
    organization_ids = SelectMultipleField(validate_choice=False)
    identity_document = FileField()
    request_letter = FileField()
    data_form = FileField()
    consent_personal_data = BooleanField()
    website = StringField()  # honeypot: people never see or fill it

    def setup(self, organizations: list[tuple[str, str]]) -> RequestForm:
        self.identity_type.choices = [
            ("nik", _("NIK (KTP)")), ("paspor", _("Passport")), ("nip", _("NIP (civil servant)")),
            ("lainnya", _("Other identity number")),
        ]
        self.category.choices = [
            ("masyarakat_umum", _("Member of the public")),
            ("instansi_pemerintah", _("Government agency")),
            ("dunia_usaha", _("Business")),
        ]
        self.data_format.choices = [
            ("CSV", "CSV"), ("XLSX", "Excel (XLSX)"), ("PDF", "PDF"), ("", _("No preference")),
        ]
        self.organization_ids.choices = organizations
        return self

    def to_data_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, name).data or "" for name in TEXT_FIELDS}
        data["dataset_ids"] = self.dataset_ids.data or ""
        data["organization_ids"] = list(self.organization_ids.data or [])
        data["consent_personal_data"] = bool(self.consent_personal_data.data)
        for name in FILE_FIELDS:
            upload = getattr(self, name).data
            if upload and getattr(upload, "filename", ""):
                data[name] = upload
        if self.website.data:
            data["website"] = self.website.data
        return data


class ActionForm(FlaskForm):
    """Every input a workflow step may ask for; a page shows only those the step requires."""

    transition = HiddenField()
    version = HiddenField()
    note = TextAreaField()
    instruction = TextAreaField()
    assignee = SelectField(validate_choice=False)
    opd = SelectMultipleField(validate_choice=False)
    outcome = SelectField(validate_choice=False)
    dataset = StringField()
    result = MultipleFileField()
    identity_document = FileField()
    request_letter = FileField()
    data_form = FileField()
    passphrase = PasswordField()

    def to_data_dict(self, request_id: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": request_id, "transition": self.transition.data, "version": self.version.data,
        }
        for name in ("note", "instruction", "assignee", "outcome", "dataset", "passphrase"):
            if getattr(self, name).data:
                data[name] = getattr(self, name).data
        if self.opd.data:
            data["opd"] = list(self.opd.data)
        results = [f for f in (self.result.data or []) if getattr(f, "filename", "")]
        if results:
            data["result"] = results
        for name in FILE_FIELDS:
            upload = getattr(self, name).data
            if upload and getattr(upload, "filename", ""):
                data[name] = upload
        return data


class TrackForm(FlaskForm):
    """Tracking number and the requester's email: posted with a CSRF token, so that the email
    never appears in an address (access logs, browser history, Referer headers)."""

    nomor = StringField()
    email = EmailField()


class PositionForm(FlaskForm):
    position = SelectField(validate_choice=False)
    user = StringField()
    valid_from = StringField()
    valid_to = StringField()
    kind = SelectField(validate_choice=False)  # definitif | plt | plh
    stands_in_for = StringField()
    nip = StringField()
    rank = StringField()  # pangkat/golongan
    note = StringField()


class CredentialForm(FlaskForm):
    user = StringField()
    backend = SelectField(validate_choice=False)
    reference = StringField()
    key_label = StringField()
    cert_label = StringField()
    certificate = FileField()


class HolidayForm(FlaskForm):
    day = StringField()
    name = StringField()
    kind = SelectField(validate_choice=False)
