"""Flask-WTF forms of the statistics, survey and complaint pages.

As in `views/forms.py`, the forms carry CSRF and hand the input to the actions, whose schemas
decide; their errors are shown beside the fields.
"""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField

from ckanext.statrequest.model.feedback import ELEMENTS
from ckanext.statrequest.views.forms import DataForm

SCORE_CHOICES = [("1", "1"), ("2", "2"), ("3", "3"), ("4", "4")]


class SurveyForm(DataForm):
    """A score of 1 to 4 for each of the nine elements, and a comment."""

    u1 = u2 = u3 = u4 = u5 = u6 = u7 = u8 = u9 = RadioField(choices=SCORE_CHOICES,
                                                            validate_choice=False)
    comment = TextAreaField()

    def to_data_dict(self, request_id: str) -> dict[str, Any]:
        # an unanswered question arrives as "None" (WTForms' text of a missing choice)
        scores = {u: v for u, v in self.filled(ELEMENTS).items() if v != "None"}
        return {"id": request_id} | scores | self.filled(("comment",))


class ComplaintForm(DataForm):
    request = SelectField(validate_choice=False)
    subject = StringField()
    body = TextAreaField()

    def to_data_dict(self) -> dict[str, Any]:
        return {"subject": self.subject.data or "", "body": self.body.data or ""} | \
            self.filled(("request",))


class CounterComplaintForm(DataForm):
    """A complaint the front desk received in person, by letter, email or phone."""

    channel = SelectField(validate_choice=False)
    complainant_name = complainant_email = complainant_phone = subject = StringField()
    request = received_at = StringField()
    body = TextAreaField()

    def to_data_dict(self) -> dict[str, Any]:
        return self.filled(("channel", "request", "complainant_name", "complainant_email",
                            "complainant_phone", "subject", "body", "received_at"))


class ResponseForm(FlaskForm):
    response = TextAreaField()
    close = BooleanField()


class PeriodForm(FlaskForm):
    """The period filter of the statistics pages (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    year = StringField()
    date_from = StringField()
    date_to = StringField()

    def to_data_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k).data.strip() for k in ("year", "date_from", "date_to")
                if getattr(self, k).data and getattr(self, k).data.strip()}
