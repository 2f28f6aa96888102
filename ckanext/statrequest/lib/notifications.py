"""Email notifications: who must hear about a step, in which language, sent exactly once.

Flow: a step (`statrequest_create`, `statrequest_transition`) renders its messages and inserts
them into the outbox table `statrequest_notification` inside its own transaction
(`stage_transition`), so the step, its event and its emails are committed together or not at
all. Only after the commit does `letters.transitioned` fire; `on_transitioned` enqueues the
new rows: one background job per row (`jobs.send_notification`), or with
`notify.batch_size` one job that sends the due rows over one connection (`jobs.send_due`).
The outbox's unique key (cause, recipient, kind) makes a repeated signal or check add nothing.
`sla_check` adds reminders and escalations to the same outbox; `flush` re-enqueues rows that
are still unsent (a process that died between its commit and the enqueue, mail server down,
Redis restarted, worker killed).

Who gets what (the workflow's `holder` of each state):
- whoever must act next, when a request enters their step: every current holder of the
  position holding the new state; for the assignee position (staff) only the assigned staff
  member; for an OPD state the admins and editors of the routed OPD organisations. The user
  who fired the transition is not told about his own step.
- the requester: at submission and at every step the workflow file marks `visibility: public`
  (no list of steps here, so a regency's own workflow decides); which mail follows from where
  the step leads: received (submission, or resubmitted by the requester), returned (back to the
  requester for changes), finished (a final state: the letter is ready, or withdrawn), else
  progress (in progress, with what happens next).
- the complainant: when an official answers their complaint (`stage_complaint_answer`, in the
  answer's transaction).
- officials, with `notify.officials = digest` (the default): no mail per step; one mail each
  working morning listing their inbox (`digest_message`, `ckan statrequest digest`).

Language: a requester gets emails in the language of the portal page they submitted from
(stored at submission in `statrequest_request_language`); officials get the configured
`ckanext.statrequest.notify.language`, unless their user has plugin_extras
{"statrequest": {"language": "en"}}. Messages are rendered when queued, with a Jinja
environment of our own and the extension's catalogues, so the worker needs no web context and a
retry sends exactly the same bytes.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import ckan.model as model
import jinja2
from babel.dates import format_date, format_datetime
from babel.support import Translations
from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ckanext.statrequest import settings
from ckanext.statrequest.core.vocabulary import ZONE_ABBREVIATIONS
from ckanext.statrequest.core.workflow import (
    OFFICIAL,
    OPD,
    REQUESTER,
    REQUESTER_AUDIENCE,
    State,
    Transition,
    Workflow,
)
from ckanext.statrequest.lib import access
from ckanext.statrequest.lib.texts import lang
from ckanext.statrequest.model import (
    Event,
    Notification,
    Position,
    Request,
    RequestLanguage,
    RequestOrganization,
)
from ckanext.statrequest.model import now as _now  # the one clock (model.now), UTC
from ckanext.statrequest.model.feedback import Complaint

log = logging.getLogger(__name__)

HERE = Path(__file__).parent.parent  # the package: templates/ and i18n/ live there
TEMPLATES = HERE / "templates" / "statrequest" / "emails"
LANGUAGES = ("id", "en")

# Kinds of message, each with its template `emails/<kind>.html`.
RECEIVED, RETURNED, FINISHED, ACTION = "received", "returned", "finished", "action_needed"
PROGRESS, COMPLAINT_ANSWERED = "progress", "complaint_answered"
REMINDER, ESCALATION = "reminder", "escalation"
OBJECTION = "objection"  # an objection filed or decided (keberatan)
EXTENDED = "extended"  # the deadline was extended: the reason, the old and new deadline
# a complaint: its receipt (to the complainant, and to the officials who answer it) and its
# escalation when it passes its due date unanswered
COMPLAINT_RECEIVED, COMPLAINT_NEW = "complaint_received", "complaint_new"
COMPLAINT_ESCALATION = "complaint_escalation"


@dataclass(frozen=True)
class Recipient:
    key: str  # "user:<id>" or "email:<address>": one message per person and cause
    email: str
    name: str
    language: str
    audience: str = OFFICIAL  # whose words the workflow's texts are in (the requester's own)


@dataclass(frozen=True)
class Message:
    event_key: str
    kind: str
    recipient: Recipient
    request_id: str | None  # None: a complaint about the service in general
    subject: str
    body: str


# --- languages and rendering ------------------------------------------------------------------

def normalize_language(value: str | None) -> str:
    """"en", "en_GB" -> "en"; anything else is the portal's Indonesian."""
    return "en" if (value or "").split("_")[0].split("-")[0].lower() == "en" else "id"


def default_language() -> str:
    return normalize_language(settings.get("notify.language"))


@lru_cache(maxsize=len(LANGUAGES))
def _environment(language: str) -> jinja2.Environment:
    # Plain-text emails, so no HTML escaping; the .html suffix only lets Babel's template
    # extractor (setup.py) find the msgids. One environment per language: the gettext
    # functions are installed on the environment.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=False,  # noqa: S701
        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    translations = Translations.load(str(HERE / "i18n"), [language], domain="ckanext-statrequest")
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return env


def render(kind: str, language: str, **variables: Any) -> tuple[str, str]:
    """Subject and body of a message in the recipient's language."""
    env = _environment(normalize_language(language))
    template = env.get_template(f"{kind}.html")
    variables.setdefault("site_title", settings.core("ckan.site_title") or "")
    subject = "".join(template.blocks["subject"](template.new_context(variables)))
    body = template.render(variables)
    # one line, no header injection through a request title
    return " ".join(subject.split())[:250], body.strip() + "\n"


def when(value: dt.datetime | None, language: str) -> str:
    """`Senin, 9 Februari 2026, 16.00 WIB`: office time zone, the recipient's language."""
    if value is None:
        return "-"
    zone = settings.get("timezone")
    text = format_datetime(value.astimezone(ZoneInfo(zone)), "EEEE, d MMMM y, HH:mm",
                           locale=normalize_language(language))
    return f"{text} {ZONE_ABBREVIATIONS.get(zone, '')}".strip()


def request_link(request: Request, for_requester: bool = False) -> str:
    """The request's page; a guest (no account) gets the signed link that opens it."""
    if for_requester and request.requester_id is None:
        from ckanext.statrequest.lib import guest

        return guest.link(request.id)
    return f"{settings.site_url()}/permintaan-data/{request.tracking_number}"


# --- recipients ---------------------------------------------------------------------------------

def official_language(user: model.User) -> str:
    extras = (user.plugin_extras or {}).get("statrequest") or {}
    return normalize_language(extras.get("language")) if extras.get("language") \
        else default_language()


def user_recipient(user: model.User | None) -> Recipient | None:
    if user is None or user.state != "active" or not user.email:
        return None
    return Recipient(f"user:{user.id}", user.email, user.fullname or user.name,
                     official_language(user))


def request_language(request_id: str) -> str | None:
    """The language the request was submitted in (None if not remembered)."""
    language = model.Session.scalar(
        select(RequestLanguage.language).where(RequestLanguage.request_id == request_id))
    return normalize_language(language) if language else None


def requester_recipient(request: Request) -> Recipient | None:
    """The address the requester gave on the form, in the language they used."""
    if not request.email:
        return None
    return Recipient(f"email:{request.email.strip().lower()}", request.email,
                     request.requester_name or "",
                     request_language(request.id) or default_language(), REQUESTER_AUDIENCE)


def complainant_recipient(complaint: Complaint) -> Recipient | None:
    """The complainant's account, in the language of the request the complaint is about (the
    one they wrote in), else their own choice or the portal's. A complaint recorded at the
    counter for someone without an account: the address they gave, if any."""
    if complaint.complainant_id is None:
        recipient = Recipient(
            f"email:{complaint.complainant_email.strip().lower()}", complaint.complainant_email,
            complaint.complainant_name, default_language()) if complaint.complainant_email \
            else None
    else:
        recipient = user_recipient(model.User.get(complaint.complainant_id))
    language = request_language(complaint.request_id) if complaint.request_id else None
    return replace(recipient, language=language) if recipient and language else recipient


def position_holders(position: str, on: dt.date | None = None) -> list[model.User]:
    """Everyone holding the position today (definitive and acting), still a Diskominfo member."""
    on = on or dt.date.today()
    user_ids = model.Session.scalars(
        select(Position.user_id).distinct().where(
            Position.position == position, Position.revoked_at.is_(None),
            Position.valid_from <= on,
            or_(Position.valid_to.is_(None), Position.valid_to >= on))
    ).all()
    users = [model.User.get(uid) for uid in sorted(user_ids)]
    return [u for u in users if u is not None and position in access.positions_held(u.id, on)]


def opd_admins(request_id: str) -> list[model.User]:
    """Admins and editors of the OPD organisations the request is routed to, whose task on
    it is open (lib/opd_tasks: an OPD that answered and was not asked again has nothing to
    do); every routed one for a request without tasks (put in an OPD state outside the
    workflow's steps: every routed OPD has a task since migration 0018)."""
    from sqlalchemy import exists, not_

    from ckanext.statrequest.model.opd_task import ASKED, OpdTask

    task = OpdTask.request_id == request_id
    waits = or_(exists().where(task, OpdTask.organization_id == RequestOrganization.organization_id,
                               OpdTask.status == ASKED),
                not_(exists().where(task)))
    return list(model.Session.scalars(
        select(model.User).distinct()
        .join(model.Member, model.Member.table_id == model.User.id)
        .join(RequestOrganization, RequestOrganization.organization_id == model.Member.group_id)
        .join(model.Group, model.Group.id == model.Member.group_id)
        .where(
            RequestOrganization.request_id == request_id, RequestOrganization.routed.is_(True),
            waits,
            model.Member.table_name == "user", model.Member.state == "active",
            model.Member.capacity.in_(access.OPD_CAPACITIES), model.Group.state == "active",
            model.User.state == "active",
        ).order_by(model.User.id)
    ).all())


def state_actors(request: Request, state: State, wf: Workflow, with_assignee: bool = False
                 ) -> list[model.User]:
    """Officials who must act on the request in `state` (not the requester).

    `with_assignee`: in an OPD state also the assigned staff member, who chases the OPD
    (used by reminders).
    """
    if state.holder == wf.assignee_position:
        user = model.User.get(request.assignee_id) if request.assignee_id else None
        return [user] if user is not None else []
    if state.holder == OPD:
        users = opd_admins(request.id)
        if with_assignee and request.assignee_id:
            users.append(model.User.get(request.assignee_id))
        return [u for u in users if u is not None]
    if state.holder in wf.positions:
        return position_holders(state.holder)
    return []


def _unique(recipients: list[Recipient | None]) -> list[Recipient]:
    seen: dict[str, Recipient] = {}
    for r in recipients:
        if r is not None and r.key not in seen:
            seen[r.key] = r
    return list(seen.values())


# --- messages -----------------------------------------------------------------------------------

def _variables(request: Request, wf: Workflow, language: str, audience: str = OFFICIAL,
               **extra: Any) -> dict[str, Any]:
    return {
        "tracking_number": request.tracking_number,
        "title": request.title,
        "state_label": wf.state_label(request.state, audience, language),
        "due": when(request.sla_due_at, language),
        "received": when(request.received_at, language),
        "link": request_link(request),
        "outcome": request.outcome or "",
        **extra,
    }


def _message(kind: str, event_key: str, recipient: Recipient, request: Request, wf: Workflow,
             **extra: Any) -> Message:
    subject, body = render(kind, recipient.language,
                           **_variables(request, wf, recipient.language, recipient.audience,
                                        name=recipient.name, **extra))
    return Message(event_key, kind, recipient, request.id, subject, body)


def requester_kind(event: Event, t: Transition | None, target: State) -> str:
    """The mail the requester gets for a step ("" for none): the submission and every step
    the workflow marks `visibility: public`; the kind follows from where the step leads."""
    if event.from_state is None:
        return RECEIVED
    if t is None or not t.is_public:
        return ""
    if t.extend_days:
        return EXTENDED
    if target.final:
        return FINISHED  # the letter is ready, or the request was withdrawn
    if t.actor == REQUESTER:
        return RECEIVED  # resubmitted after changes
    if target.holder == REQUESTER:
        return RETURNED
    return PROGRESS


def _extension(event: Event, language: str) -> dict[str, Any]:
    """The days and the deadline before an extension, for its mail (the new one is `due`)."""
    data = event.data or {}
    if not data.get("extension_days"):
        return {}
    before = data.get("due_before")
    return {"days": data["extension_days"],
            "due_before": when(dt.datetime.fromisoformat(before) if before else None, language)}


def transition_messages(request: Request, event: Event, wf: Workflow) -> list[Message]:
    """What the step recorded in `event` tells whom."""
    target = wf.states[event.to_state]
    t = wf.transitions.get(event.transition)
    key = f"event:{event.id}"
    messages: list[Message] = []
    requester = requester_recipient(request)
    if requester is not None:
        kind = requester_kind(event, t, target)
        if kind:
            # the requester reads only public notes
            note = event.note if event.visibility == "public" else ""
            messages.append(_message(kind, key, requester, request, wf, note=note,
                                     resubmitted=event.from_state is not None,
                                     link=request_link(request, for_requester=True),
                                     **_extension(event, requester.language)))
    stays = t is not None and t.stays  # same holder, nothing new for them to do
    # notify.officials = digest: no mail per step to officials, the morning digest lists what
    # waits for them (`digest_message`). Immediate still: the requester's mails above (never
    # digested: a citizen waits on each answer), and, elsewhere, the reminders and escalations
    # of overdue requests, objections and complaints (they exist because something is late),
    # the complainant's mails, and the officials' mails of a new objection or complaint (not
    # in the request inbox the digest lists, each with its own short legal deadline).
    if not target.final and target.holder != REQUESTER and not stays \
            and not officials_digested():
        actors = [u for u in state_actors(request, target, wf) if u.id != event.actor_id]
        for recipient in _unique([user_recipient(u) for u in actors]):
            messages.append(_message(ACTION, key, recipient, request, wf, note=event.note,
                                     step=t.label.get(recipient.language) if t else ""))
    return messages


def insert(messages: list[Message]) -> list[int]:
    """Insert into the outbox in the caller's transaction; returns the ids of new rows."""
    ids: list[int] = []
    now = _now()
    for m in messages:
        new_id = model.Session.execute(
            pg_insert(Notification).values(
                event_key=m.event_key, recipient=m.recipient.key, kind=m.kind,
                request_id=m.request_id, email=m.recipient.email, name=m.recipient.name,
                language=m.recipient.language, subject=m.subject, body=m.body,
                created_at=now, attempts=0,
            ).on_conflict_do_nothing(
                index_elements=["event_key", "recipient", "kind"]
            ).returning(Notification.id)
        ).scalar_one_or_none()
        if new_id is not None:
            ids.append(new_id)
    return ids


def save(messages: list[Message]) -> list[int]:
    """Insert into the outbox and commit; returns the ids of rows that are new."""
    ids = insert(messages)
    model.Session.commit()
    return ids


def enqueue_all(ids: list[int]) -> int:
    """Start the sending of these committed rows: one job per row, or one batch job for all
    (notify.batch_size); a failure only delays the emails until the next flush."""
    from ckanext.statrequest.lib import jobs

    if ids and jobs.batch_size():
        try:
            jobs.enqueue_batch()
            return len(ids)
        except Exception:
            log.exception("could not enqueue the email batch; notifications-flush will retry")
            return 0
    started = 0
    for notification_id in ids:
        try:
            jobs.enqueue(notification_id)
            started += 1
        except Exception:
            log.exception("could not enqueue email %s; notifications-flush will retry",
                          notification_id)
    return started


def remember_language(request_id: str, language: str) -> None:
    model.Session.execute(
        pg_insert(RequestLanguage).values(request_id=request_id,
                                          language=normalize_language(language))
        .on_conflict_do_nothing(index_elements=["request_id"]))


def _stage(build: Callable[[], list[Message]], what: str) -> list[int]:
    """Insert the messages `build` makes in the caller's transaction (they are committed, or
    rolled back, with it); returns the ids of new rows, to enqueue once the commit succeeded.
    A failure to render never fails the caller: it is logged, and a savepoint takes back what
    was half inserted."""
    model.Session.flush()  # the caller's own rows (an error there is the caller's), their ids
    try:
        with model.Session.begin_nested():
            return insert(build())
    except Exception:
        log.exception("could not queue the emails of %s", what)
        return []


def stage_transition(request: Request, event: Event) -> list[int]:
    """The emails of the step recorded in `event`, in the step's own transaction (`_stage`)."""
    def build() -> list[Message]:
        if event.from_state is None:  # submission: the page language is the requester's
            remember_language(request.id, lang())
        wf = settings.workflow()
        return transition_messages(request, event, wf) if event.to_state in wf.states else []

    return _stage(build, f"{event.transition} on request {request.id}")


def objection_messages(request: Request, event: Event, due: dt.datetime,
                       decision: str | None) -> list[Message]:
    """An objection's mails: the requester hears of its filing (with the deadline of the
    decision) and of its decision; on filing, whoever holds the objection's state is told."""
    wf = settings.workflow()
    key = f"event:{event.id}"
    messages: list[Message] = []
    requester = requester_recipient(request)
    extra: dict[str, Any] = {"decision": decision or "", "objection_due": "", "overdue": False}
    if requester is not None:
        extra["objection_due"] = when(due, requester.language)
        messages.append(_message(OBJECTION, key, requester, request, wf, official=False,
                                 link=request_link(request, for_requester=True), **extra))
    target = wf.states.get(event.to_state)
    if decision is None and target is not None and target.holder in wf.positions:
        for recipient in _unique([user_recipient(u) for u in position_holders(target.holder)
                                  if u.id != event.actor_id]):
            extra["objection_due"] = when(due, recipient.language)
            messages.append(_message(OBJECTION, key, recipient, request, wf, official=True,
                                     **extra))
    return messages


def objection_reminders(now: dt.datetime) -> int:
    """Overdue objections (past their own decision deadline): whoever holds the objection's
    state is reminded once a working day, and their superiors one level per
    `sla.escalate_after_days` working days late, once each. Returns the mails queued."""
    from ckanext.statrequest.lib import objection as objections

    calendar, wf = settings.calendar(), settings.workflow()
    today = calendar.localize(now).date().isoformat()
    step = int(settings.get("sla.escalate_after_days"))
    messages: list[Message] = []
    for row in objections.overdue(now):
        request = model.Session.get(Request, row.request_id)
        state = wf.states.get(row.state)
        if request is None or state is None or state.holder not in wf.positions:
            continue
        days = _working_days_overdue(row.due_at, now, calendar)
        positions = [(state.holder, f"objection-overdue:{row.id}:{today}")]
        if step > 0:
            positions += [(p, f"objection-escalation:{row.id}:{level}") for level, p in
                          enumerate(wf.escalation_chain(state.holder)[: days // step], start=1)]
        for position, key in positions:
            for r in _unique([user_recipient(u) for u in position_holders(position)]):
                messages.append(_message(OBJECTION, key, r, request, wf, official=True,
                                         decision="", overdue=True, days=days,
                                         objection_due=when(row.due_at, r.language)))
    ids = save(messages)
    enqueue_all(ids)
    return len(ids)


def stage_objection(request: Request, event: Event, due: dt.datetime,
                    decision: str | None = None) -> list[int]:
    """The mails of an objection step, in the step's own transaction (`_stage`)."""
    return _stage(lambda: objection_messages(request, event, due, decision),
                  f"{event.transition} on request {request.id}")


def complaint_messages(complaint: Complaint) -> list[Message]:
    """The complainant's mail about the latest answer to their complaint."""
    recipient = complainant_recipient(complaint)
    if recipient is None:
        return []
    request = model.Session.get(Request, complaint.request_id) if complaint.request_id else None
    subject, body = render(
        COMPLAINT_ANSWERED, recipient.language, name=recipient.name,
        complaint_number=complaint.number, complaint_subject=complaint.subject,
        response=complaint.response, closed=complaint.state == "selesai",
        tracking_number=request.tracking_number if request else "",
        link=_complainant_link(complaint))
    # one mail per answer: the history grows by one entry with each
    key = f"complaint:{complaint.id}:{len(complaint.history or [])}"
    return [Message(key, COMPLAINT_ANSWERED, recipient, complaint.request_id, subject, body)]


def complaint_link(complaint: Complaint) -> str:
    return f"{settings.site_url()}/permintaan-data/pengaduan/{complaint.number}"


def _complainant_link(complaint: Complaint) -> str:
    """The complaint page, for a complainant with an account (the page needs a login)."""
    return complaint_link(complaint) if complaint.complainant_id else ""


def complaint_officials(complaint: Complaint, on: dt.date | None = None) -> list[model.User]:
    """Who must hear of a new complaint: today's holders of the position that answers
    complaints and, for a complaint about a request, whoever holds that request now."""
    users = position_holders(str(settings.get("complaint.responder_position")), on)
    request = model.Session.get(Request, complaint.request_id) if complaint.request_id else None
    wf = settings.workflow()
    state = wf.states.get(request.state) if request is not None else None
    if request is not None and state is not None and not state.final:
        users += state_actors(request, state, wf)
    return users


def _complaint_variables(complaint: Complaint, language: str) -> dict[str, Any]:
    from ckanext.statrequest.core.vocabulary import COMPLAINT_CHANNELS

    request = model.Session.get(Request, complaint.request_id) if complaint.request_id else None
    return {
        "complaint_number": complaint.number, "complaint_subject": complaint.subject,
        "complaint_body": complaint.body, "due": when(complaint.due_at, language),
        "received": when(complaint.received_at or complaint.created_at, language),
        "channel": COMPLAINT_CHANNELS.get(complaint.channel, complaint.channel),
        "complainant": complaint.complainant_name or _user_name(complaint.complainant_id),
        "tracking_number": request.tracking_number if request else "",
    }


def _user_name(user_id: str | None) -> str:
    user = model.User.get(user_id) if user_id else None
    return (user.fullname or user.name) if user else ""


def complaint_received_messages(complaint: Complaint) -> list[Message]:
    """At receipt: the complainant's acknowledgement (number and due date), and the news to
    the officials concerned (`complaint_officials`)."""
    key = f"complaint-received:{complaint.id}"
    messages: list[Message] = []
    complainant = complainant_recipient(complaint)
    if complainant is not None:
        subject, body = render(COMPLAINT_RECEIVED, complainant.language, name=complainant.name,
                               link=_complainant_link(complaint),
                               **_complaint_variables(complaint, complainant.language))
        messages.append(Message(key, COMPLAINT_RECEIVED, complainant, complaint.request_id,
                                subject, body))
    for r in _unique([user_recipient(u) for u in complaint_officials(complaint)]):
        subject, body = render(COMPLAINT_NEW, r.language, name=r.name,
                               link=complaint_link(complaint),
                               **_complaint_variables(complaint, r.language))
        messages.append(Message(key, COMPLAINT_NEW, r, complaint.request_id, subject, body))
    return messages


def stage_complaint_received(complaint: Complaint) -> list[int]:
    """The receipt's mails, in the transaction that records the complaint (`_stage`)."""
    return _stage(lambda: complaint_received_messages(complaint),
                  f"the receipt of {complaint.number}")


def complaint_escalations(now: dt.datetime) -> int:
    """Tell the superior of the answering position (workflow `superior`) of each complaint
    past its due date and still unanswered, once: `escalated_at` marks it, and the outbox key
    would refuse a second mail anyway. Returns the mails newly queued."""
    wf = settings.workflow()
    responder = str(settings.get("complaint.responder_position"))
    superior = wf.superior.get(responder)
    overdue = model.Session.scalars(
        select(Complaint).where(Complaint.state == "diterima", Complaint.due_at.is_not(None),
                                Complaint.due_at < now, Complaint.escalated_at.is_(None))
        .order_by(Complaint.due_at).with_for_update(skip_locked=True)).all()
    messages: list[Message] = []
    for complaint in overdue:
        complaint.escalated_at = now
        users = position_holders(superior) if superior and superior in wf.positions else []
        for r in _unique([user_recipient(u) for u in users]):
            subject, body = render(
                COMPLAINT_ESCALATION, r.language, name=r.name, link=complaint_link(complaint),
                position=wf.positions[superior].get(r.language),
                responder=wf.positions[responder].get(r.language)
                if responder in wf.positions else responder,
                **_complaint_variables(complaint, r.language))
            messages.append(Message(f"complaint-escalation:{complaint.id}",
                                    COMPLAINT_ESCALATION, r, complaint.request_id,
                                    subject, body))
    new_ids = save(messages)  # commits escalated_at with the mails
    enqueue_all(new_ids)
    return len(new_ids)


def stage_complaint_answer(complaint: Complaint) -> list[int]:
    """The complainant's mail, in the answer's own transaction (`_stage`)."""
    return _stage(lambda: complaint_messages(complaint), f"the answer to {complaint.number}")


def queue_transition(request_id: str, transition: str) -> list[int]:
    """Outbox rows for a committed transition whose sender staged none (a repeated or foreign
    signal); committed here; returns the ids of new rows."""
    request = model.Session.get(Request, request_id)
    if request is None:
        return []
    # the latest event of that transition is the one just committed
    event = model.Session.scalars(
        select(Event).where(Event.request_id == request_id, Event.transition == transition)
        .order_by(Event.id.desc()).limit(1)).first()
    if event is None:
        return []
    if event.from_state is None:  # submission: the page language is the requester's
        remember_language(request_id, lang())
    wf = settings.workflow()
    if event.to_state not in wf.states:
        return []
    return save(transition_messages(request, event, wf))


def on_transitioned(sender: str, **kwargs: Any) -> None:
    """Receiver of `letters.transitioned`: enqueue the emails the step committed (`outbox`);
    never fails the transition."""
    request_id, staged = kwargs.get("request_id"), kwargs.get("outbox")
    try:
        enqueue_all(staged if staged is not None else queue_transition(str(request_id), sender))
    except Exception:
        model.Session.rollback()
        log.exception("could not queue the emails of %s on request %s", sender, request_id)


# --- the outbox --------------------------------------------------------------------------------

def flush(min_age: dt.timedelta = dt.timedelta(minutes=5), now: dt.datetime | None = None
          ) -> dict[str, int]:
    """Re-enqueue unsent emails older than `min_age` (younger ones still have their job) and
    younger than the give-up period. A duplicate job is harmless: it finds the row sent."""
    now = now or _now()
    give_up = now - dt.timedelta(hours=int(settings.get("notify.give_up_hours")))
    rows = model.Session.execute(
        select(Notification.id, Notification.created_at).where(Notification.sent_at.is_(None))
        .order_by(Notification.id)).all()
    model.Session.rollback()
    retry = [r.id for r in rows if give_up <= r.created_at <= now - min_age]
    return {"enqueued": enqueue_all(retry),
            "given_up": sum(1 for r in rows if r.created_at < give_up)}


# --- reminders and escalation -------------------------------------------------------------------

def _escalation_chain(holder: str | None, wf: Workflow) -> list[str]:
    if holder == OPD:  # staff coordinate with the OPD; their superiors hear of the delay
        return wf.escalation_chain(wf.assignee_position)
    return wf.escalation_chain(holder) if holder in wf.positions else []


def _holder_label(request: Request, state: State, wf: Workflow, language: str) -> str:
    if state.holder in wf.positions:
        label = wf.positions[state.holder].get(language)
        if state.holder == wf.assignee_position and request.assignee_id:
            user = model.User.get(request.assignee_id)
            label = f"{label} ({user.fullname or user.name})" if user else label
        return label
    if state.holder == OPD:
        return ", ".join(sorted(
            g.title or g.name for g in model.Session.scalars(
                select(model.Group).join(RequestOrganization,
                                         RequestOrganization.organization_id == model.Group.id)
                .where(RequestOrganization.request_id == request.id,
                       RequestOrganization.routed.is_(True)))))
    return state.holder or ""


def _working_days_overdue(due: dt.datetime, now: dt.datetime, calendar: Any) -> int:
    """Working days after the deadline's day, up to and including today."""
    day, today = calendar.localize(due).date(), calendar.localize(now).date()
    count = 0
    while day < today:
        day = calendar.next_working_day(day)
        count += 1 if day <= today else 0
    return count


def sla_check(now: dt.datetime | None = None) -> dict[str, int]:
    """Remind whoever must act on requests due soon or overdue (once a working day), and tell
    the superiors of overdue ones (once per level and visit of a state). Idempotent."""
    now = now or _now()
    calendar, wf = settings.calendar(), settings.workflow()
    today = calendar.localize(now).date()
    result = {"checked": 0, "reminders": 0, "escalations": 0, "complaint_escalations": 0}
    if not calendar.is_working_day(today):
        return result
    result["complaint_escalations"] = complaint_escalations(now)
    result["objection_reminders"] = objection_reminders(now)
    horizon = calendar.add_working_time(
        now, calendar.day_length * max(int(settings.get("sla.remind_days_before")), 0))
    step = int(settings.get("sla.escalate_after_days"))
    running = [name for name in wf.states if wf.sla_running(name)]
    requests = model.Session.scalars(
        select(Request).where(Request.state.in_(running), Request.sla_paused_at.is_(None),
                              Request.sla_due_at.is_not(None), Request.sla_due_at <= horizon)
        .order_by(Request.sla_due_at)).all()
    for request in requests:
        result["checked"] += 1
        state = wf.states[request.state]
        assert request.sla_due_at is not None
        overdue = now > request.sla_due_at
        days = _working_days_overdue(request.sla_due_at, now, calendar) if overdue else 0
        messages = []
        reminder_key = f"reminder:{request.id}:{today.isoformat()}"
        for r in _unique([user_recipient(u) for u in state_actors(request, state, wf, True)]):
            messages.append(_message(REMINDER, reminder_key, r, request, wf,
                                     overdue=overdue, days=days))
        if overdue and step > 0 and days >= step:
            entered = model.Session.scalar(
                select(Event.id).where(Event.request_id == request.id,
                                       Event.to_state == request.state)
                .order_by(Event.id.desc()).limit(1))
            chain = _escalation_chain(state.holder, wf)
            for level, position in enumerate(chain[: days // step], start=1):
                key = f"escalation:{request.id}:{entered}:{level}"
                for r in _unique([user_recipient(u) for u in position_holders(position)]):
                    messages.append(_message(
                        ESCALATION, key, r, request, wf, days=days,
                        holder=_holder_label(request, state, wf, r.language),
                        position=wf.positions[position].get(r.language)))
        new_ids = save(messages)
        new_kinds = set(model.Session.execute(
            select(Notification.id, Notification.kind).where(Notification.id.in_(new_ids))
        ).all()) if new_ids else set()
        result["reminders"] += sum(1 for _id, kind in new_kinds if kind == REMINDER)
        result["escalations"] += sum(1 for _id, kind in new_kinds if kind == ESCALATION)
        enqueue_all(new_ids)
    return result


# --- the officials' daily digest (notify.officials = digest) -------------------------------------

DIGEST = "digest"
_URGENCY = {"overdue": 0, "due_soon": 1}  # most urgent first; the rest by their deadline


def officials_digested() -> bool:
    """`notify.officials = digest`: officials hear of new work once a working morning, in one
    mail listing their inbox (`ckan statrequest digest`), not by one mail per step."""
    return settings.get("notify.officials") == "digest"


def digest_candidates(on: dt.date) -> list[model.User]:
    """Who may have work waiting: the holders of a position on `on` and the admins and editors
    of organisations (the OPD). Whose inbox is empty gets nothing (the caller asks the inbox)."""
    ids = set(model.Session.scalars(select(Position.user_id).where(
        Position.revoked_at.is_(None), Position.valid_from <= on,
        or_(Position.valid_to.is_(None), Position.valid_to >= on))))
    ids |= set(model.Session.scalars(
        select(model.Member.table_id).join(model.Group, model.Group.id == model.Member.group_id)
        .where(model.Member.table_name == "user", model.Member.state == "active",
               model.Member.capacity.in_(access.OPD_CAPACITIES), model.Group.state == "active",
               model.Group.is_organization.is_(True))))
    users = [model.User.get(uid) for uid in sorted(ids)]
    return [u for u in users if u is not None and u.state == "active" and u.email]


def digest_key(day: dt.date) -> str:
    return f"{DIGEST}:{day.isoformat()}"


def digested_on(day: dt.date) -> set[str]:
    """Recipient keys ("user:<id>") that already have their digest of `day` in the outbox."""
    return set(model.Session.scalars(select(Notification.recipient).where(
        Notification.event_key == digest_key(day), Notification.kind == DIGEST)))


def _digest_due(item: dict[str, Any]) -> dt.datetime | None:
    due = (item.get("sla") or {}).get("due_at") or item.get("sla_due_at")
    return dt.datetime.fromisoformat(due) if due else None


def digest_message(user: model.User, waiting: list[dict[str, Any]], count: int,
                   day: dt.date) -> Message | None:
    """One official's digest of `day`: `waiting` are the summaries of their inbox
    (statrequest_list waiting_for_me as that user; `count` all of them), listed most urgent
    first (overdue, due soon, then by deadline) with state, deadline and link, in the user's
    language. None when nothing waits or the user has no address. Not about one request:
    the row's request_id is None; its key (digest:<day>, user, kind) makes it once a day."""
    recipient = user_recipient(user)
    if recipient is None or not waiting:
        return None
    wf, language = settings.workflow(), recipient.language
    far = dt.datetime.max.replace(tzinfo=dt.timezone.utc)

    def urgency(item: dict[str, Any]) -> tuple[int, dt.datetime]:
        return (_URGENCY.get((item.get("sla") or {}).get("status"), 2), _digest_due(item) or far)

    items = []
    for item in sorted(waiting, key=urgency):
        state = wf.states.get(item["state"])
        items.append({
            "tracking_number": item["tracking_number"], "title": item["title"],
            "state_label": state.label.get(language) if state else item["state"],
            "due": when(_digest_due(item), language),
            "status": (item.get("sla") or {}).get("status"),
            "link": f"{settings.site_url()}/permintaan-data/{item['tracking_number']}",
        })
    subject, body = render(
        DIGEST, language, name=recipient.name, items=items, count=count,
        more=count - len(items), overdue=sum(1 for i in items if i["status"] == "overdue"),
        inbox=f"{settings.site_url()}/permintaan-data/kotak-masuk",
        date=format_date(day, "EEEE, d MMMM y", locale=language))
    return Message(digest_key(day), DIGEST, recipient, None, subject, body)
