"""Flask-WTF forms of the statistics, survey and complaint pages.

As in `forms.py`, the forms carry CSRF and hand the input to the actions, whose schemas
decide; their errors are shown beside the fields.
"""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField

from ckanext.statrequest.model.feedback import ELEMENTS

SCORE_CHOICES = [("1", "1"), ("2", "2"), ("3", "3"), ("4", "4")]


class SurveyForm(FlaskForm):
    u1 = RadioField(choices=SCORE_CHOICES, validate_choice=False)
    u2 = RadioField(choices=SCORE_CHOICES, validate_choice=False)
    u3 = RadioField(choices=SCORE_CHOICES, validate_choice=False)
    u4 = RadioField(choices=SCORE_CHOICES, validate_choice=False)
    u5 = RadioField(choices=SCORE_CHOICES, validate_choice=False)
    u6 = RadioField(choices=SCORE_CHOICES, validate_choice=False)
    u7 = RadioField(choices=SCORE_CHOICES, validate_choice=False)
    u8 = RadioField(choices=SCORE_CHOICES, validate_choice=False)
    u9 = RadioField(choices=SCORE_CHOICES, validate_choice=False)
    comment = TextAreaField()

    def to_data_dict(self, request_id: str) -> dict[str, Any]:
        data: dict[str, Any] = {"id": request_id}
        for u in ELEMENTS:
            value = getattr(self, u).data
            if value not in (None, "", "None"):
                data[u] = value
        if self.comment.data:
            data["comment"] = self.comment.data
        return data


class ComplaintForm(FlaskForm):
    request = SelectField(validate_choice=False)
    subject = StringField()
    body = TextAreaField()

    def to_data_dict(self) -> dict[str, Any]:
        data = {"subject": self.subject.data or "", "body": self.body.data or ""}
        if self.request.data:
            data["request"] = self.request.data
        return data


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
