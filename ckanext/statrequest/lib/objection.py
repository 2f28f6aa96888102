"""Objections (keberatan, UU 14/2008 Pasal 35-36): who may file one and on what grounds, their
deadlines, the signed decision letter, overdue escalation and the figures.

The steps are the workflow's transitions marked `objection: file` and `objection: decide`
(`Workflow.objection_step`); a regency that leaves them out takes no objections. An objection
has its own state (a state of those steps): the request stays in its completed state, so its
answer, its reply letter, its clock and its statistics do not change.
"""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import func, select

from ckanext.statrequest import settings
from ckanext.statrequest.core.calendar import WorkingCalendar
from ckanext.statrequest.core.vocabulary import (
    OBJECTION_DECISIONS,
    OBJECTION_GROUND_NEEDS,
    OBJECTION_GROUNDS,
    OBJECTION_LATE,
    OBJECTION_REFUSED,
    OBJECTION_UPHELD,
    OUTCOMES_WITH_REASON,
)
from ckanext.statrequest.core.workflow import Transition, Workflow
from ckanext.statrequest.lib import attachments, letters
from ckanext.statrequest.model import Attachment, Objection, Request

_ = tk._

DECISION_KIND = "objection_decision"  # the attachment kind of the signed decision


def step(name: str, wf: Workflow | None = None) -> Transition | None:
    """The workflow's `file` or `decide` step; None when objections are switched off."""
    return (wf or settings.workflow()).objection_step(name)


def of_request(request_id: str) -> Objection | None:
    return model.Session.scalars(
        select(Objection).where(Objection.request_id == request_id)).first()


def conditions(request: Request) -> set[str]:
    """What the answer gives grounds for: a refusal (whole or partial), a late answer."""
    found = set()
    if request.outcome in OUTCOMES_WITH_REASON:
        found.add(OBJECTION_REFUSED)
    if request.closed_at and request.sla_due_at and request.closed_at > request.sla_due_at:
        found.add(OBJECTION_LATE)
    return found


def open_grounds(request: Request) -> list[str]:
    """The grounds the requester may give against this answer, in the list's order."""
    have = conditions(request)
    return [code for code in OBJECTION_GROUNDS if OBJECTION_GROUND_NEEDS[code] in have]


def filing_deadline(request: Request, t: Transition, calendar: WorkingCalendar
                    ) -> dt.datetime | None:
    """End of the filing period: `days` working days after the request was closed."""
    if request.closed_at is None:
        return None
    return calendar.due_date(request.closed_at, t.days)


def refusal(request: Request, t: Transition | None, at: dt.datetime) -> str | None:
    """Why no objection can be filed against this request now (a translated sentence), or
    None. Who files is the auth function's and the engine's business, not this one's."""
    if t is None:
        return _("This portal takes no objections.")
    if request.state not in t.sources:
        return _("An objection can be filed only once the request has been answered.")
    if of_request(request.id) is not None:
        return _("An objection to this request was already filed.")
    deadline = filing_deadline(request, t, settings.calendar())
    if deadline is None or at > deadline:
        return _("The period for filing an objection (%(days)s working days after the "
                 "answer) has ended.") % {"days": t.days}
    if not open_grounds(request):
        return _("The request was fulfilled in time: there is nothing to object to.")
    return None


def ground_labels(codes: list[str], language: str) -> list[str]:
    index = 1 if language.split("_")[0] == "en" else 0
    return [OBJECTION_GROUNDS[c][index] if c in OBJECTION_GROUNDS else c for c in codes]


def decision_label(code: str | None, language: str) -> str:
    if code not in OBJECTION_DECISIONS:
        return code or ""
    return OBJECTION_DECISIONS[code][1 if language.split("_")[0] == "en" else 0]


# --- the decision letter ----------------------------------------------------------------------

def sign_decision(request: Request, objection: Objection, position: str, secret: str,
                  written: attachments.Written, actor_id: str | None) -> tuple[Attachment,
                                                                               dict[str, Any]]:
    """Render the decision letter, sign it with the deciding official's own credential and
    keep it as the request's `objection_decision` file (the reply letter stays as it was).
    Inside the caller's transaction: a wrong passphrase writes nothing."""
    from ckanext.statrequest.documents.decision import DecisionData, prepare_decision
    from ckanext.statrequest.documents.letter import LetterRenderError

    objection.letter_number = objection.letter_number or letters.next_letter_number()
    objection.verification_code = objection.verification_code or secrets.token_urlsafe(12)
    url = letters.verification_link(objection.verification_code)
    data = DecisionData(
        letterhead=letters.letterhead(), letter_number=objection.letter_number,
        place=settings.get("letter.place", ""), date=dt.date.today(),
        addressee_name=request.requester_name,
        addressee_institution=request.institution or "",
        addressee_address=request.address or "",
        request_number=request.tracking_number, requested_data_title=request.title,
        reply_letter_number=request.letter_number or "",
        filed_on=settings.calendar().localize(objection.filed_at).date(),
        grounds=ground_labels(list(objection.grounds or []), "id"),
        objection_reason=objection.reason, decision=objection.decision or "",
        decision_reason=objection.decision_reason,
        signer_position=letters.position_title(position), verification_url=url,
        record={"tracking_number": request.tracking_number,
                "reply_letter_number": request.letter_number,
                "grounds": list(objection.grounds or []), "decision": objection.decision,
                "filed_at": objection.filed_at.isoformat()},
    )
    try:
        rendered = prepare_decision(data)
    except LetterRenderError as exc:
        raise tk.ValidationError({"letter": [_("The decision letter could not be made: %(e)s")
                                             % {"e": exc}]}) from exc
    signed, signer = letters.sign_pdf(request, position, rendered.pdf, url, secret, actor_id,
                                      final=True)
    row = letters.store_pdf(request, DECISION_KIND,
                            f"keputusan-keberatan-{request.tracking_number}.pdf", signed,
                            written, actor_id)
    objection.letter_attachment_id = row.id
    return row, signer


def by_verification_code(code: str) -> Objection | None:
    """The decided objection whose letter has this verification code."""
    return model.Session.scalars(select(Objection).where(
        Objection.verification_code == code, Objection.letter_attachment_id.is_not(None))
    ).first()


def by_letter_number(number: str) -> Objection | None:
    return model.Session.scalars(select(Objection).where(
        Objection.letter_number == number, Objection.letter_attachment_id.is_not(None))
    ).first()


def letter_of(objection: Objection | None) -> Attachment | None:
    if objection is None:
        return None
    row = model.Session.get(Attachment, objection.letter_attachment_id or "")
    if row is None or row.deleted_at is not None or not row.file_id:
        return None
    return row


# --- overdue and figures ----------------------------------------------------------------------

def overdue(at: dt.datetime) -> list[Objection]:
    """Open objections past their decision deadline."""
    t = step("decide")
    if t is None:
        return []
    return list(model.Session.scalars(select(Objection).where(
        Objection.decided_at.is_(None), Objection.state.in_(t.sources),
        Objection.due_at < at).order_by(Objection.due_at)))


def figures(request_ids: Any = None) -> dict[str, int]:
    """Objections filed, decided (upheld, rejected), decided on time, still open; over the
    requests of `request_ids` (a SQL subquery), or all."""
    stmt = select(Objection.decision, Objection.decided_at <= Objection.due_at, func.count()
                  ).group_by(Objection.decision, Objection.decided_at <= Objection.due_at)
    if request_ids is not None:
        stmt = stmt.where(Objection.request_id.in_(request_ids))
    out = {"filed": 0, "upheld": 0, "rejected": 0, "decided_on_time": 0, "open": 0}
    for decision, on_time, count in model.Session.execute(stmt):
        out["filed"] += count
        if decision is None:
            out["open"] += count
            continue
        out["upheld" if decision == OBJECTION_UPHELD else "rejected"] += count
        out["decided_on_time"] += count if on_time else 0
    return out
