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

from ckanext.statrequest.core.vocabulary import (
    DESK_CHANNELS,
    IDENTITY_TYPES,
    RECEPTION_CHANNELS,
    REQUESTER_CATEGORIES,
)
from ckanext.statrequest.views.common import labels

_ = tk._

TEXT_FIELDS = ("requester_name", "identity_type", "identity_number", "institution", "category",
               "email", "phone", "address", "title", "description", "period", "breakdown",
               "data_format", "purpose")
FILE_FIELDS = ("identity_document", "request_letter", "data_form")


class DataForm(FlaskForm):
    """A form that hands its input to an action: only what was filled in goes."""

    def filled(self, names: tuple[str, ...]) -> dict[str, Any]:
        """The named fields that hold a value (an empty field is left to the schema)."""
        return {name: getattr(self, name).data for name in names if getattr(self, name).data}

    def uploads(self, names: tuple[str, ...] = FILE_FIELDS) -> dict[str, Any]:
        """The named file fields that received a file."""
        return {name: getattr(self, name).data for name in names
                if getattr(getattr(self, name).data, "filename", "")}


# Fields of one kind are declared together: `a = b = Field()` gives each name its own field.

class RequestForm(DataForm):
    """The data request (labels are set per request, in the user's language)."""

    requester_name = identity_number = institution = phone = StringField()
    title = period = breakdown = dataset_ids = StringField()
    identity_type = category = data_format = SelectField(validate_choice=False)
    address = description = purpose = TextAreaField()
    email = EmailField()
    organization_ids = SelectMultipleField(validate_choice=False)
    identity_document = request_letter = data_form = FileField()
    consent_personal_data = BooleanField()
    website = StringField()  # honeypot: people never see or fill it

    def setup(self, organizations: list[tuple[str, str]]) -> RequestForm:
        self.identity_type.choices = list(labels(IDENTITY_TYPES).items())
        self.category.choices = list(labels(REQUESTER_CATEGORIES).items())
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
        return data | self.uploads() | self.filled(("website",))


class DeskForm(RequestForm):
    """A request registered at the front desk: the request form without the requester's
    consent tick (given on paper), with the register's fields."""

    channel = SelectField(validate_choice=False)
    # dates as typed (an <input type="date"> sends YYYY-MM-DD): the action's schema judges them
    received_on = sender_letter_date = sender_letter_number = StringField()

    def setup_desk(self, organizations: list[tuple[str, str]]) -> DeskForm:
        self.setup(organizations)
        self.channel.choices = [(code, label) for code, label in labels(RECEPTION_CHANNELS).items()
                                if code in DESK_CHANNELS]
        return self

    def to_data_dict(self) -> dict[str, Any]:
        data = super().to_data_dict()
        data.pop("consent_personal_data", None)
        for name in ("channel", "received_on", "sender_letter_number", "sender_letter_date"):
            data[name] = getattr(self, name).data or ""
        return data


class CorrectionForm(RequestForm):
    """The request's details, corrected while the request waits for the requester's changes
    (`statrequest_update`); every field is sent, an unchanged one changes nothing."""

    version = HiddenField()

    def fill(self, request: dict[str, Any]) -> CorrectionForm:
        """The request's current values, unless the user just posted their own."""
        for name in TEXT_FIELDS:
            field = getattr(self, name)
            if field.raw_data is None:  # not posted: show what the request holds now
                field.data = request.get(name) or ""
        self.version.data = self.version.data or request.get("version")
        return self

    def to_data_dict(self, request_id: str) -> dict[str, Any]:  # type: ignore[override]
        data: dict[str, Any] = {name: getattr(self, name).data or "" for name in TEXT_FIELDS}
        return data | {"id": request_id, "version": self.version.data}


class ActionForm(DataForm):
    """Every input a workflow step may ask for; a page shows only those the step requires."""

    transition = version = HiddenField()
    note = instruction = TextAreaField()
    assignee = outcome = reason = SelectField(validate_choice=False)
    opd = SelectMultipleField(validate_choice=False)
    # an upload on an OPD's behalf: the one routed OPD the data came from, and how it came
    from_opd = channel = SelectField(validate_choice=False)
    dataset = StringField()
    result = MultipleFileField()
    identity_document = request_letter = data_form = FileField()
    passphrase = PasswordField()

    def to_data_dict(self, request_id: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": request_id, "transition": self.transition.data, "version": self.version.data,
        }
        data |= self.filled(("note", "instruction", "assignee", "outcome", "reason", "dataset",
                             "passphrase"))
        if self.opd.data:
            data["opd"] = list(self.opd.data)
        if self.from_opd.data:
            data["opd"] = [self.from_opd.data]
        if self.channel.data:
            data["channel"] = self.channel.data
        results = [f for f in (self.result.data or []) if getattr(f, "filename", "")]
        if results:
            data["result"] = results
        return data | self.uploads()


class TrackForm(FlaskForm):
    """Tracking number and the requester's email: posted with a CSRF token, so that the email
    never appears in an address (access logs, browser history, Referer headers)."""

    nomor = StringField()
    email = EmailField()


class PositionForm(DataForm):
    position = kind = SelectField(validate_choice=False)  # kind: definitif | plt | plh
    user = valid_from = valid_to = stands_in_for = note = StringField()
    nip = rank = StringField()  # rank: pangkat/golongan


class CredentialForm(DataForm):
    user = reference = key_label = cert_label = StringField()
    backend = SelectField(validate_choice=False)
    certificate = FileField()


class HolidayForm(DataForm):
    day = name = StringField()
    kind = SelectField(validate_choice=False)


class ObjectionForm(DataForm):
    """Filing an objection (the requester) or deciding it (the Head of Agency); `step` says
    which. The choices are the objection's own (`statrequest_objection_show`)."""

    step = HiddenField()
    grounds = SelectMultipleField(validate_choice=False)
    decision = SelectField(validate_choice=False)
    reason = TextAreaField()
    passphrase = PasswordField()

    def to_data_dict(self, request_id: str) -> dict[str, Any]:
        data: dict[str, Any] = {"id": request_id, **self.filled(("reason",))}
        if self.step.data == "decide":
            return data | self.filled(("decision", "passphrase"))
        return data | {"grounds": list(self.grounds.data or [])}


class PublicationForm(DataForm):
    """The open publication of delivered data: the requester's consent (`step` = consent) or
    an OPD's / the staff's publication of its files (`step` = publish)."""

    step = HiddenField()
    organization = HiddenField()
    title = StringField()
    notes = TextAreaField()
    license_id = SelectField(validate_choice=False)

    def to_data_dict(self, request_id: str) -> dict[str, Any]:
        if self.step.data != "publish":
            return {"id": request_id}
        return {"id": request_id, **self.filled(("organization", "title", "notes", "license_id"))}
