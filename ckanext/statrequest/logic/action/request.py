"""Actions on requests: submit, read, transition, files, positions, holidays, the workflow,
public tracking (their names: `logic.api.ACTIONS["request"]`; CKAN naming: statrequest_*).

Each action validates with its schema, calls its auth function, and returns only what the
caller may see. State changes go through `_apply`, one transaction per call.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import and_, false, func, insert, intersect, or_, select, true, union_all

from ckanext.statrequest import settings
from ckanext.statrequest.core import workflow as wflib
from ckanext.statrequest.core.calendar import WorkingCalendar
from ckanext.statrequest.core.numbering import format_tracking_number, parse_tracking_number
from ckanext.statrequest.core.vocabulary import (
    CORRECTABLE_FIELDS,
    CORRECTION_EVENT,
    PORTAL_CHANNEL,
)
from ckanext.statrequest.lib import (
    access,
    attachments,
    guest,
    letters,
    linked_dataset,
    listing,
    notifications,
    opd_tasks,
    ratelimit,
    reasons,
    records,
)
from ckanext.statrequest.lib.texts import lang
from ckanext.statrequest.logic import common
from ckanext.statrequest.logic import dictization as dz
from ckanext.statrequest.logic.auth.request import correction_refused, deletion_refused
from ckanext.statrequest.logic.schema import request as schema
from ckanext.statrequest.model import (
    Attachment,
    Event,
    Holiday,
    IdentityAccess,
    OpenRequest,
    OpenRequestWord,
    Position,
    Request,
    RequestDataset,
    RequestOrganization,
    crypto,
    new_id,
)
from ckanext.statrequest.model import now as now_utc

log = logging.getLogger(__name__)
_ = tk._

UPLOAD_FIELDS = attachments.REQUESTER_KINDS


# --- helpers ------------------------------------------------------------------------------

def _translate_errors(errors: dict[str, str]) -> dict[str, list[str]]:
    return {field: [_(message)] for field, message in errors.items()}


def _event(request: Request, actor: access.Actor, role: str, transition: str,
           from_state: str | None, to_state: str, visibility: str, note: str,
           version: int, data: dict[str, Any] | None = None) -> Event:
    acting = bool(actor.positions.get(role, False))
    if acting:  # a Plt/Plh: record the kind and on whose behalf (for the letter and audit)
        data = {**(data or {}), **letters.acting_data(actor.user_id, role)}
    event = Event(
        request_id=request.id, actor_id=actor.user_id, actor_role=role,
        acting=acting, transition=transition,
        from_state=from_state, to_state=to_state, note=note or "", visibility=visibility,
        data=data or {}, version=version, created_at=now_utc(),
    )
    model.Session.add(event)
    return event


@contextmanager
def _committed() -> Iterator[None]:
    """Commit what the block wrote, or roll all of it back: a lost race (another user changed
    the request first) is the "already handled" answer, any other error goes on up."""
    try:
        yield
        model.Session.commit()
    except records.StaleVersion:
        model.Session.rollback()
        raise common.stale_version() from None
    except Exception:
        model.Session.rollback()
        raise


def _uploads(data_dict: dict[str, Any], kinds: tuple[str, ...]) -> list[attachments.Prepared]:
    """Check every upload present in the call before anything is written."""
    prepared, errors = checked_uploads(data_dict, kinds)
    if errors:
        raise tk.ValidationError(errors)
    return prepared


def checked_uploads(data_dict: dict[str, Any], kinds: tuple[str, ...]
                    ) -> tuple[list[attachments.Prepared], dict[str, Any]]:
    """Every upload present in the call checked: the good ones and the errors of the others
    (so that a form reports its files' problems together with its fields')."""
    prepared: list[attachments.Prepared] = []
    errors: dict[str, Any] = {}
    for kind in kinds:
        value = data_dict.get(kind)
        if value in (None, "", tk.missing):
            continue
        for item in value if isinstance(value, list) else [value]:
            try:
                prepared.append(attachments.prepare(kind, item))
            except tk.ValidationError as exc:
                errors.update(exc.error_dict)
    return prepared, errors


def _store_all(request: Request, prepared: list[attachments.Prepared],
               written: attachments.Written, actor: access.Actor,
               organization_id: str | None = None) -> list[Attachment]:
    rows = []
    for item in prepared:
        file_id = attachments.store(item, request.id, written, actor.name)
        row = Attachment(
            id=new_id(), request_id=request.id, kind=item.kind, file_id=file_id, name=item.name,
            size=item.size, media_type=item.media_type, sha256=item.sha256,
            uploaded_by=actor.user_id, organization_id=organization_id, created_at=now_utc(),
        )
        model.Session.add(row)
        rows.append(row)
    return rows


# --- requests -----------------------------------------------------------------------------

def statrequest_create(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Submit a request with its identity document, request letter and (optional) data form.

    :param requester_name, identity_type (nik|paspor|nip|lainnya), identity_number,
        institution, category (instansi_pemerintah|masyarakat_umum|dunia_usaha), email,
        phone, address, title, description, period, breakdown, data_format, purpose
    :param dataset_ids: existing datasets the request refers to (list or comma-separated)
    :param organization_ids: OPD organisations the request concerns
    :param consent_personal_data: must be true
    :param identity_document, request_letter, data_form: file uploads
    :returns: the request as the requester sees it
    """
    tk.check_access("statrequest_create", context, data_dict)
    ratelimit.check_submission(context, data_dict)  # spam limits and honeypot; writes nothing
    # every problem at once: the fields, then the documents
    data, errors = tk.navl_validate(data_dict, schema.create(), context)
    for required in attachments.REQUIRED_KINDS:
        if data_dict.get(required) in (None, "", tk.missing):
            errors[required] = [_("Please attach this document.")]
    if tk.asbool(settings.get("require_data_form")) and not data_dict.get("data_form"):
        errors["data_form"] = [_("Please attach this document.")]
    prepared, file_errors = checked_uploads(data_dict, UPLOAD_FIELDS)  # files too, in one pass
    errors.update(file_errors)
    if errors:
        raise tk.ValidationError(errors)

    actor = access.context_actor(context)
    wf = settings.workflow()
    now = now_utc()
    written = attachments.Written()
    try:
        request, stored = new_request(data, prepared, written, actor, now,
                                      requester_id=actor.user_id, received_at=now,
                                      channel=PORTAL_CHANNEL)
        event = _event(request, actor, access.REQUESTER, "ajukan", None, wf.initial, "public",
                       "", 1, {"files": [a.id for a in stored]})
        outbox = notifications.stage_transition(request, event)  # the receipt, in this commit
        model.Session.commit()
    except Exception:
        model.Session.rollback()
        written.discard()
        raise
    letters.after_commit(request.id, "ajukan", outbox)
    result = _show(request, actor, _guest_token(request))
    if request.requester_id is None:  # a guest follows the request through this link
        result["guest_link"] = guest.link(request.id)
    return result


REQUEST_FIELDS = ("requester_name", "identity_type", "identity_number", "institution",
                  "category", "email", "phone", "address", "title", "description", "period",
                  "breakdown", "data_format", "purpose")


def new_request(data: dict[str, Any], prepared: list[attachments.Prepared],
                written: attachments.Written, actor: access.Actor, now: dt.datetime,
                **reception: Any) -> tuple[Request, list[Attachment]]:
    """A new request in the workflow's initial state, inside the caller's transaction: its
    tracking and agenda numbers (always taken in this order, so concurrent submissions and
    desk registrations queue on the counters and never deadlock), its deadline from
    `reception["received_at"]`, the datasets and OPD it names, and its files."""
    wf, calendar = settings.workflow(), settings.calendar()
    year = calendar.localize(now).year
    seq = records.next_number("tracking", year)
    request = Request(
        tracking_number=format_tracking_number(year, seq),
        agenda_number=records.next_agenda_number(year), state=wf.initial,
        created_at=now, updated_at=now, version=1, sla_pauses=[],
        **{k: data.get(k) or "" for k in REQUEST_FIELDS}, **reception,
    )
    request.sla_due_at = records.due_for(request, calendar, now)
    model.Session.add(request)
    model.Session.flush()
    for package_id in data.get("dataset_ids", []):
        model.Session.add(RequestDataset(request_id=request.id, package_id=package_id,
                                         linked_by=actor.user_id, role="reference"))
    for org_id in data.get("organization_ids", []):
        model.Session.add(RequestOrganization(request_id=request.id, organization_id=org_id))
    return request, _store_all(request, prepared, written, actor)


def _guest_token(request: Request) -> str | None:
    return guest.make_token(request.id) if request.requester_id is None else None


def statrequest_track(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Public tracking: the state of a request, given its number and the requester's email.

    A wrong email and an unknown number give the same answer, so the page reveals nothing.
    POST only (not side-effect free on purpose): an email in a GET address would end up in
    access logs and browser histories. Limited per IP address (`ratelimit.check_ip_rate`).
    """
    tk.check_access("statrequest_track", context, data_dict)
    ratelimit.check_ip_rate("track")
    data = common.validate(data_dict, schema.track(), context)
    number = data["tracking_number"].strip().upper()
    request = records.find_request(number)
    # by number only (an id is no tracking number), and with the requester's email
    if request is None or request.tracking_number != number or \
            request.email.lower() != data["email"].strip().lower():
        raise tk.ObjectNotFound(_("Request not found"))
    wf = settings.workflow()
    return {
        "tracking_number": request.tracking_number,
        "state": request.state,
        # public tracking is the requester's: the words written to them
        "state_label": wf.state_label(request.state, wflib.REQUESTER_AUDIENCE, lang()),
        "updated_at": dz.iso(request.updated_at),
        "finished": wf.is_final(request.state),
    }


def _show(request: Request, actor: access.Actor, token: str | None = None,
          record_nik: bool = False, v: access.View | None = None) -> dict[str, Any]:
    v = v or access.view(actor, request, token)
    data = dz.request_full(request, v, settings.workflow(), settings.calendar())
    # whether this viewer may correct the details now (statrequest_update), sysadmins included
    data["may_correct"] = correction_refused(actor, request, token, v) is None
    # parallel OPD tasks: officials see each OPD's, an OPD its own (lib/opd_tasks.py)
    data["opd_tasks"] = opd_tasks.task_rows(request, v, now_utc())
    data["may_close_opd_tasks"] = bool(data["opd_tasks"]) and v.internal and \
        opd_tasks.may_close(actor, request)
    if data.get("identity_number") and not v.is_requester:
        if record_nik:
            record_nik_views(actor, [request.id])
        else:  # the full number leaves only through statrequest_show, where it is recorded
            data["identity_number"] = dz.mask(request.identity_number)
    return data


def record_nik_views(actor: access.Actor, request_ids: list[str]) -> None:
    """Record that an official was shown the full identity number of these requests (read
    by the Secretary with the identity-document views, statrequest_identity_access_list)."""
    if not request_ids:
        return
    now = now_utc()
    model.Session.execute(insert(IdentityAccess), [
        {"kind": "nik", "attachment_id": None, "request_id": rid, "user_id": actor.user_id,
         "accessed_at": now} for rid in request_ids])
    model.Session.commit()


@tk.side_effect_free
def statrequest_show(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """A request by `id` (or tracking number), with what the caller may see of it."""
    data, request = common.target("statrequest_show", context, data_dict,
                                  schema.by_id(), common.get_request, passed=("token",))
    # internal calls (ignore_auth) are code, not a person looking at the number
    v = access.kept_view(context, request, data.get("token"))  # the auth function's, if it ran
    return _show(request, v.actor, data.get("token"),
                 record_nik=not context.get("ignore_auth") and not data.get("masked"), v=v)


def _inbox_clause(actor: access.Actor,
                  wf: wflib.Workflow) -> tuple[Any, dict[str, tuple[Any, bool]]]:
    """Requests waiting for this user's action now; and, per state they can be in, what a
    request in that state must also meet and whether that alone makes it visible to the
    user (the per-state parts of _page_ids: a plain `state = s` walks the index, where the
    whole OR would be a filter on every row)."""
    # (states, further condition, whether it implies access.visible_requests_clause)
    parts: list[tuple[set[str], Any, bool]] = []
    assignee_states = set(wf.states_waiting_for([wf.assignee_position]))
    for code in actor.positions:
        states = set(wf.states_waiting_for([code]))
        if code == wf.assignee_position:
            parts.append((states, Request.assignee_id == access.caller_id(actor),
                          actor.is_staff))
        elif states - assignee_states:
            parts.append((states - assignee_states, true(), actor.is_staff))
    opd_states = wf.states_waiting_for([access.OPD])
    if actor.opd_ids and opd_states:
        # an open task of the user's OPD (not once answered); it implies the routing
        parts.append((set(opd_states), opd_tasks.open_for(access.caller_opds(actor)), True))
    mine = wf.states_waiting_for([access.REQUESTER])
    if actor.user_id and mine:
        parts.append((set(mine), Request.requester_id == access.caller_id(actor), True))
    clause = or_(*(and_(Request.state.in_(states), cond) for states, cond, _v in parts)) \
        if parts else false()
    by_state = {
        state: (or_(*(cond for states, cond, _v in parts if state in states)),
                all(v for states, _c, v in parts if state in states))
        for states, _cond, _v in parts for state in states}
    return clause, by_state


_WORD = re.compile(r"[\w]+", re.UNICODE)
# a query word the open requests' words table answers: PostgreSQL parses it into itself as
# one lexeme (`simple`), and it is not longer than the stored words (cut at 100 characters)
_INDEXED_WORD = re.compile(r"[a-z0-9]{1,100}")


def _prefixes(words: list[str]) -> str:
    """The text query of a search: every word, as the beginning of a word."""
    return " & ".join(f"{w}:*" for w in words)


def _is_tracking_number(q: str) -> bool:
    """Whether the search box holds a tracking number (found by it exactly, not as words)."""
    try:
        parse_tracking_number(q.strip().upper())
    except ValueError:
        return False
    return True


@tk.side_effect_free
def statrequest_list(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Requests the caller may see, filtered, sorted and paged.

    :param state: list of states; :param waiting_for_me: only what waits for my action;
    :param organization: routed OPD; :param requester: user; :param category;
    :param sla: overdue|due_soon|on_time; :param q: free text (tracking number, title,
    description; for officials also an exact identity number); :param created_from,
    created_to: ISO dates; :param sort: urgency|newest|oldest|due; :param limit (max 100), offset
    :returns: {"count": total, "count_is_lower_bound": bool, "results": [...]}; the total is
        exact up to offset + COUNT_CAP (1,000) matches, beyond that `count` is that bound and
        `count_is_lower_bound` is true (pages show "1.000+")
    """
    data = common.authorized("statrequest_list", context, data_dict, schema.list_())
    actor = access.kept_actor(context)  # built by the auth function of this call
    wf, calendar = settings.workflow(), settings.calendar()
    sort = data.get("sort") or ("urgency" if data.get("waiting_for_me") else "newest")
    limit = min(int(data.get("limit") or 20), 100)
    offset = int(data.get("offset") or 0)
    plain_inbox = data.get("waiting_for_me") and not any(
        v for k, v in data.items() if k not in _INBOX_PAGE)
    kept = _kept_inbox(actor, wf, calendar, sort) if plain_inbox else None
    if kept is not None:
        page = listing.fetch_planned(kept, limit, offset, access.caller_values(actor))
    else:
        where, per_state, source, walk = _plan(actor, data, wf, calendar, now_utc(), sort)
        page = listing.fetch(where, per_state, sort, limit, offset, source=source, walk=walk)
    results = [
        dz.request_summary(r, access.View(actor, r, page.routed.get(r.id, frozenset())), wf,
                           calendar, page.names)
        for r in page.rows
    ]
    count, lower_bound = page.count, page.lower_bound
    # count_is_lower_bound: more than `count` match (pages show "1.000+"); exact otherwise
    return {"count": count, "count_is_lower_bound": lower_bound, "results": results,
            "limit": limit, "offset": offset}


# what a call of the plain inbox may hold: any other field given is a filter
_INBOX_PAGE = frozenset({"waiting_for_me", "sort", "limit", "offset"})
# the plain inbox's plan per (workflow, caller's shape, sort): (workflow, plan or None)
_KEPT_INBOX: dict[tuple[Any, ...], tuple[wflib.Workflow, listing.PerStatePlan | None]] = {}


def _kept_inbox(actor: access.Actor, wf: wflib.Workflow, calendar: WorkingCalendar,
                sort: str) -> listing.PerStatePlan | None:
    """The plain inbox's plan for every caller of this actor's shape (access.shape_of),
    built once per process and run with the caller's values: building the statement and
    walking it for SQLAlchemy's cache key took ~1.5 ms of a 5.8 ms inbox (#16). None where the
    inbox has no per-state plan (nothing waits for the caller, or a date order)."""
    key = (id(wf), access.shape_of(actor), sort)
    kept = _KEPT_INBOX.get(key)
    if kept is None or kept[0] is not wf:  # the entry holds wf: its id is not reused
        _w, per_state, _s, _walk = _plan(access.shaped_actor(key[1]), {"waiting_for_me": True},
                                         wf, calendar, now_utc(), sort)
        kept = (wf, listing.per_state_plan(per_state, sort))
        if len(_KEPT_INBOX) >= 256:  # shapes are few; a bound all the same
            _KEPT_INBOX.clear()
        _KEPT_INBOX[key] = kept
    return kept[1]


def _plan(actor: access.Actor, data: dict[str, Any], wf: wflib.Workflow,
          calendar: WorkingCalendar, now: dt.datetime, sort: str
          ) -> tuple[list[Any], dict[str, list[Any]] | None, Any, Any]:
    """What statrequest_list reads (listing.fetch): the conditions, the conditions per
    state when the states are known, the source of the matches and the walk past the cap."""
    visible = access.visible_requests_clause(actor)
    text_search = bool(data.get("q")) and not _is_tracking_number(data["q"])
    states: set[str] | None = None  # the only states a match can be in, when known
    by_state: dict[str, tuple[Any, bool]] = {}  # the inbox's condition per state
    inbox = None
    if data.get("waiting_for_me"):
        inbox, by_state = _inbox_clause(actor, wf)
        states = set(by_state)
    if data.get("state"):
        states = set(data["state"]) if states is None else states & set(data["state"])
    open_states = [s for s in wf.states if wf.sla_running(s)]
    if data.get("sla"):
        states = set(open_states) if states is None else states & set(open_states)
    only_open = bool(data.get("q")) and bool(states) and not any(wf.is_final(s) for s in states)
    # with the states known and sorted by urgency or due, one part per state (listing.fetch);
    # otherwise a text search among open requests reads the open requests' table (migration
    # 0019: only their search columns, one index over words and category) and the requests
    # table only for the page's rows and for conditions that table does not hold
    per_state_plan = sort in ("urgency", "due") and bool(states)
    t: Any = OpenRequest if text_search and only_open and not per_state_plan else Request
    words = _WORD.findall(data["q"].lower())[:8] if text_search else []
    # a staff search among open requests by whole ASCII words reads the open requests' words
    # (migration 0020: each match an index entry, not a table row); the other conditions
    # (an OPD's or a requester's visibility, inbox, organisation, requester) need the
    # requests table
    needs_request = not actor.is_staff or any(
        data.get(k) for k in ("waiting_for_me", "organization", "requester"))
    by_words = t is OpenRequest and bool(words) and not needs_request and all(
        _INDEXED_WORD.fullmatch(w) for w in words)
    soon = calendar.add_working_time(now, calendar.day_length * settings.due_soon_days()) \
        if data.get("sla") else now

    def filters(t: Any) -> list[Any]:
        return _filters(t, data, now, soon, open_states, text_search)

    source: Any = t
    walk = None  # (table, conditions) of the page past the count cap, if not source's
    where: list[Any] = filters(OpenRequestWord if by_words else t)  # conditions on t
    on_request: list[Any] = [] if actor.is_staff else [visible]  # staff: every request
    if inbox is not None:
        on_request.append(inbox)
    if data.get("organization"):
        on_request.append(access.routed_to(data["organization"], only_routed=False))
    if data.get("requester"):
        on_request.append(Request.requester_id == data["requester"])
    if data.get("q"):
        q = data["q"].strip()
        # an exact identity number, by its keyed hash
        nik = crypto.lookup_hashes(q) if text_search and actor.is_staff and len(q) <= 40 else None
        if not text_search:
            where.append(Request.tracking_number == q.upper())
        else:
            matches = [t.search_vector.op("@@")(func.to_tsquery("simple", _prefixes(words)))
                       ] if words else []
            if nik:
                matches.append(t.identity_number_hash.in_(nik))
            if by_words:
                on_open = filters(t)
                found = _by_words(words, where)
                if nik:  # the identity number's requests that the words did not find
                    found = union_all(found, listing.keys(
                        t, t.identity_number_hash.in_(nik), *on_open,
                        ~func.coalesce(matches[0], false())))
                source, where = found.subquery(), []
                # past the count cap the page is a walk in date order, which the words do
                # not have: the open requests' table and its text index
                walk = (t, [*on_open, or_(*matches)])
            elif matches:
                where.append(or_(*matches))
    if only_open and t is Request:
        # implied (closed_at is set on reaching a final state); lets a text search use the
        # index of the open requests (migration 0017) instead of the one of every request.
        # Only then: elsewhere it would turn the per-state index-only scans into heap reads
        where.append(Request.closed_at.is_(None))
    if t is OpenRequest and on_request:
        where.append(OpenRequest.id == Request.id)
    where += on_request
    if not where:
        where.append(true())
    # with the states known, one part per state: `state = s` and that state's own inbox
    # condition; the visibility OR is left out where that condition implies it (an OR of
    # EXISTS makes PostgreSQL hash every request routed to the OPD: 115k rows at 1M)
    per_state = {state: _state_part(where, state, by_state.get(state), visible, inbox)
                 for state in sorted(states)} if states and t is Request else None
    return where, per_state, source, walk


def _by_words(words: list[str], where: list[Any]) -> Any:
    """The keys of the open requests whose words begin with every one of `words`, from their
    words table (migration 0020), with the list's conditions `where` on it."""
    word = OpenRequestWord
    # a prefix range of the key, once per request: only a request's first word of the prefix
    # shares fewer than len(w) characters with its previous word (`shared`)
    parts = [listing.keys(word, word.word.op("^@")(w), word.shared < len(w), *where)
             for w in words]
    return intersect(*parts) if len(parts) > 1 else parts[0]


def _filters(t: Any, data: dict[str, Any], now: dt.datetime, soon: dt.datetime,
             open_states: list[str], text_search: bool) -> list[Any]:
    """The list's conditions on the columns every source of matches has (the requests, the
    open requests and their words tables): state, category, deadline, date."""
    where = []
    if data.get("state"):
        where.append(t.state.in_(data["state"]))
    if data.get("category"):
        where.append(t.category == data["category"])
    if data.get("sla"):
        # every state whose clock runs: in a text search on the requests table, checked on
        # the text index's matches (`state || ''`, an expression no index covers) rather than
        # AND-ed in from the (state, due) index, which would read all the open requests
        # (27,300 entries at 1M). A state the user picks may be selective and stays indexable.
        state_of = t.state.concat("") if text_search and t is Request else t.state
        where.append(state_of.in_(open_states))
        where.append({
            "overdue": t.sla_due_at < now,
            "due_soon": and_(t.sla_due_at >= now, t.sla_due_at <= soon),
            "on_time": t.sla_due_at > soon,
        }[data["sla"]])
    if data.get("created_from"):
        where.append(t.created_at >= data["created_from"])
    if data.get("created_to"):
        where.append(t.created_at < data["created_to"] + dt.timedelta(days=1))
    return where


def _state_part(where: list[Any], state: str, in_state: tuple[Any, bool] | None,
                visible: Any, inbox: Any) -> list[Any]:
    """The conditions of the list for requests in one state (see statrequest_list)."""
    if in_state is None:  # no inbox: the list's conditions, limited to the state
        return [*where, Request.state == state]
    # the list's conditions minus the inbox's OR and, if implied, visibility
    condition, implies_visible = in_state
    rest = [c for c in where if c is not inbox and not (implies_visible and c is visible)]
    return [*rest, Request.state == state, condition]


# --- the workflow -------------------------------------------------------------------------

def _transition_dict(t: wflib.Transition, language: str) -> dict[str, Any]:
    return {
        "name": t.name,
        "label": t.label.get(language),
        "target": t.target,
        "actor": t.actor,
        "visibility": t.visibility,
        "requires": [
            {"kind": r.kind, "file_kinds": list(r.file_kinds), "or_dataset": r.or_dataset}
            for r in t.requires
        ],
        "outcome": t.outcome,
        "letter": t.letter,
        "sla": t.sla,  # "stop": the step ends the request (pages ask before a withdrawal)
        "extend_days": t.extend_days,  # moves the deadline (the target is then "same")
        "reason": reasons.offered(t),  # required | optional | None: a reason from the list
    }


@tk.side_effect_free
def statrequest_available_transitions(context: dict[str, Any], data_dict: dict[str, Any]
                                      ) -> list[dict[str, Any]]:
    """The transitions the caller may fire on the request now, with what each requires."""
    data, request = common.target("statrequest_show", context, data_dict,
                                  schema.by_id(), common.get_request, passed=("token",))
    v = access.view(access.context_actor(context), request, data.get("token"))
    wf = settings.workflow()
    language = lang()
    return [_transition_dict(t, language)
            # back to the OPD already asked: the page asks which must answer again
            | {"reasks_opd": opd_tasks.reasks(t, wf, request.state)}
            for t in wf.available(request.state, v.roles(), v.is_assignee)
            if _usable(t, request, wf) and not t.objection  # objections: their own actions
            and opd_tasks.may_answer(request, t, v)]  # an OPD that answered: no more


def _usable(t: wflib.Transition, request: Request, wf: wflib.Workflow) -> bool:
    """A step into a staff member's hands needs one: a refusal drafted by the Secretary has
    no assigned staff, so it cannot be "returned to staff"."""
    if t.extend_days and request.extended_at is not None:
        return False  # the deadline is extended once only
    target = wf.states.get(t.target_of(request.state))
    return not (target is not None and target.holder == wf.assignee_position
                and request.assignee_id is None and not t.needs("assignee"))


def statrequest_transition(context: dict[str, Any], data_dict: dict[str, Any]
                           ) -> dict[str, Any]:
    """Fire a workflow transition.

    :param id: the request; :param transition: its name; :param version: the version the
        caller saw (a newer one means somebody else acted first: nothing is written)
    :param note, instruction, assignee, opd, outcome, dataset: inputs the transition requires
    :param reason: a code of the reason list (`statrequest_available_transitions` says which
        steps take one); required when the step refuses the request
    :param channel: how data an OPD sent outside the portal arrived (`opd` then names that
        one routed OPD, for an upload on its behalf)
    :param opd: on a step back to the OPD already asked (the results did not match;
        `reasks_opd` in `statrequest_available_transitions`): the OPD that must answer again,
        each one with a task on the request; left out: those whose answers were checked
    :param result: result file uploads (OPD, or staff on its behalf); identity_document,
        request_letter, data_form: new files when the requester resubmits
    :param passphrase: signing passphrase or PIN for paraf and signature (never stored)
    """
    data, request = common.target("statrequest_transition", context, data_dict,
                                  schema.transition(), common.get_request, passed=("token",))
    actor = access.context_actor(context)
    v = access.view(actor, request, data.get("token"))
    wf = settings.workflow()
    try:
        t = wf.check(request.state, data["transition"], v.roles(), v.is_assignee)
    except wflib.TransitionNotAllowed as exc:
        if exc.reason == wflib.WRONG_STATE and data["version"] != request.version:
            raise common.stale_version() from exc
        if exc.reason in (wflib.WRONG_ACTOR, wflib.NOT_ASSIGNEE):
            raise tk.NotAuthorized(_("You may not do this on this request.")) from exc
        raise tk.ValidationError({"transition": [_(
            "This action is not possible in the request's current state.")]}) from exc
    if data["version"] != request.version:
        raise common.stale_version()
    if t.objection:  # moves an objection, not the request: statrequest_objection_*
        raise tk.ValidationError({"transition": [_(
            "Objections are filed and decided on the objection form.")]})
    if t.extend_days and request.extended_at is not None:
        raise tk.ValidationError({"transition": [_(
            "The deadline of this request was already extended once; it cannot be extended "
            "again.")]})
    if not _usable(t, request, wf):
        raise tk.ValidationError({"transition": [_(
            "No staff member is assigned to this request.")]})

    kinds = ("result",) if t.actor == access.OPD or t.on_behalf_of_opd else (
        UPLOAD_FIELDS if t.actor == access.REQUESTER else ())
    prepared = _uploads(data_dict, kinds)
    inputs = {
        "note": data.get("note", ""),
        "instruction": data.get("instruction", ""),
        "assignee": data.get("assignee"),
        "opd": data.get("opd") or [],
        "outcome": t.outcome or data.get("outcome"),
        "dataset": (data.get("dataset") or [None])[0],
        "signature": data_dict.get("passphrase") or "",
        "channel": data.get("channel", ""),
        "files": {p.kind: [p] for p in prepared},
        "reason": data.get("reason") or None,
    }
    errors = _translate_errors(wf.validate_inputs(t, inputs))
    errors.update(reasons.errors(t, inputs["outcome"], inputs["reason"]))
    if (t.needs("assignee") and inputs["assignee"] and not errors.get("assignee")
            and wf.assignee_position not in access.positions_held(inputs["assignee"])):
        errors["assignee"] = [_("This user does not hold the staff position.")]
    if t.on_behalf_of_opd and not errors.get("opd") and not set(inputs["opd"]) <= v.routed:
        errors["opd"] = [_("This request was not sent to that agency (OPD).")]
    # parallel OPD tasks: an answer settles the answering OPD's own task, once
    inputs["answering_opd"] = opd_tasks.answering_org(request, t, v, inputs)
    if (refused := opd_tasks.answer_refused(request, inputs["answering_opd"])) and not errors:
        errors["transition"] = [refused]
    # back to the OPD (the results did not match): `opd` names who must answer again
    if (opd_tasks.reasks(t, wf, request.state) and inputs["opd"] and not errors.get("opd")
            and (refused := opd_tasks.reask_refused(request, inputs["opd"], v.routed))):
        errors["opd"] = [refused]
    if errors:
        raise tk.ValidationError(errors)
    if inputs["dataset"] and t.actor == access.OPD:  # its uploaded files become result files
        copied, inputs["linked_dataset"] = linked_dataset.copy(inputs["dataset"], actor.name)
        prepared = prepared + copied
    return _apply(request, t, actor, v, data["version"], inputs, prepared)


def _apply(request: Request, t: wflib.Transition, actor: access.Actor, v: access.View,
           version: int, inputs: dict[str, Any], prepared: list[attachments.Prepared]
           ) -> dict[str, Any]:
    wf, calendar = settings.workflow(), settings.calendar()
    now = now_utc()
    from_state = request.state
    target = t.target_of(from_state)
    answering = inputs.get("answering_opd")
    if answering:  # its task settled; the request waits while other OPD's tasks are open
        try:
            target = opd_tasks.settle(request, answering, opd_tasks.ANSWERED
                                      if opd_tasks.carries_files(t) else opd_tasks.NO_DATA, now)
        except Exception:
            model.Session.rollback()
            raise
    values: dict[str, Any] = {"state": target, "updated_at": now}
    if t.extend_days:  # once: statrequest_transition refused a second one
        values.update(extension_days=t.extend_days, extended_at=now)
    if inputs.get("outcome"):
        values["outcome"] = inputs["outcome"]
    if t.needs("assignee"):
        values["assignee_id"] = inputs["assignee"]
    if t.sla == "pause":
        values["sla_paused_at"] = now
    elif t.sla == "resume" and request.sla_paused_at is not None:
        pauses = list(request.sla_pauses or []) + [[request.sla_paused_at.isoformat(), now.isoformat()]]
        values.update(sla_pauses=pauses, sla_paused_at=None)
    if wf.is_final(target):
        values["closed_at"] = now
    elif request.closed_at is not None:
        values["closed_at"] = None  # open again: lists rely on closed_at IS NULL for open
    role = t.actor
    written = attachments.Written()
    note = inputs.get("instruction") or inputs.get("note") or ""
    event_data: dict[str, Any] = {}
    moved: list[Any] = []  # OPD tasks whose deadline moved with an extension
    try:
        new_version = records.guarded_update(request.id, version, values)
        model.Session.refresh(request)
        if t.sla == "resume":
            request.sla_due_at = records.due_for(request, calendar, now)
        if t.extend_days:  # the old and new deadline, for the timeline and the mail
            due_before = request.sla_due_at
            request.sla_due_at = records.due_for(request, calendar, now)
            event_data.update(extension_days=t.extend_days, due_before=dz.iso(due_before),
                              due_after=dz.iso(request.sla_due_at))
            # the open OPD tasks' deadlines move with it (each OPD is mailed its new date)
            moved = opd_tasks.extend(request, t.extend_days, now)
            if moved:
                event_data["opd_task_due"] = {task.organization_id: dz.iso(task.due)
                                              for task, _before in moved}
        # data sent outside the portal is filed as the OPD's, uploaded by the staff member
        on_behalf = inputs["opd"][0] if t.on_behalf_of_opd else None
        opd_id = next(iter(v.actor.opd_ids & v.routed), None) if role == access.OPD else on_behalf
        stored = _store_all(request, prepared, written, actor, opd_id)
        if stored:
            event_data["files"] = [a.id for a in stored]
        if on_behalf:  # not under "opd": that key is a routing (statistics count it)
            event_data.update(on_behalf_of_opd=on_behalf, channel=inputs["channel"],
                              uploaded_by=actor.user_id)
        elif t.needs("opd"):
            links = {link.organization_id: link for link in model.Session.scalars(
                select(RequestOrganization).where(
                    RequestOrganization.request_id == request.id,
                    RequestOrganization.organization_id.in_(inputs["opd"])))}
            for org_id in inputs["opd"]:
                link = links.get(org_id)
                if link is None:
                    link = RequestOrganization(request_id=request.id, organization_id=org_id)
                    model.Session.add(link)
                link.routed, link.routed_at = True, now
            event_data["opd"] = inputs["opd"]
            if opd_tasks.opd_state(wf, target):  # one task per OPD asked
                opd_tasks.ask(request, inputs["opd"], now)
        elif opd_tasks.opd_state(wf, target) and not opd_tasks.opd_state(wf, from_state):
            # back with the OPD: the chosen (default: answered) tasks anew, the others kept
            event_data["opd_reasked"] = opd_tasks.ask_again(request, now, inputs["opd"] or None)
        if answering:
            event_data["opd_task"] = {"organization_id": answering,
                                      "waiting": target == from_state}
        if inputs.get("dataset") and t.actor == access.OPD:
            if model.Session.get(RequestDataset, (request.id, inputs["dataset"])) is None:
                model.Session.add(RequestDataset(request_id=request.id, package_id=inputs["dataset"],
                                                 linked_by=actor.user_id, role="result"))
            event_data["dataset"] = inputs["dataset"]
            if inputs.get("linked_dataset"):  # named on the letter (title, link, resources)
                event_data["linked_dataset"] = inputs["linked_dataset"]
        if t.needs("assignee"):
            event_data["assignee"] = inputs["assignee"]
        if inputs.get("outcome"):
            event_data["outcome"] = inputs["outcome"]
        event_data.update(reasons.event_data(inputs.get("reason")))
        event = _event(request, actor, role, t.name, from_state, target, t.visibility,
                       note, new_version, event_data)
        # the step's emails commit (or roll back, e.g. a wrong passphrase below) with it
        # (an OPD's answer while other OPD's tasks are open tells nobody anything new)
        outbox = [] if answering and target == from_state else \
            notifications.stage_transition(request, event)
        outbox += opd_tasks.stage_extension(request, event, moved)
        if t.letter:
            model.Session.flush()
            letters.apply(t.letter, request, event, actor, inputs.get("signature") or "", written)
        model.Session.commit()
    except records.StaleVersion:
        model.Session.rollback()
        written.discard()
        raise common.stale_version() from None
    except Exception:
        model.Session.rollback()
        written.discard()
        raise
    letters.after_commit(request.id, t.name, outbox)
    return _show(request, actor, v.guest and _guest_token(request) or None)


def statrequest_update(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Correct a request's details while it waits for the requester's changes (the
    workflow's state held by the requester): the requester, or for a request without an
    account a holder of the front desk position. Files go with the resubmission step.

    :param id: the request; :param version: the version the caller saw
    :param token: a guest's link
    :param requester_name, identity_type, identity_number, institution, category, email,
        phone, address, title, description, period, breakdown, data_format, purpose: the
        fields to change (checked as on submission); a field left out keeps its value
    :returns: the request; every changed field is recorded in one public event, field ->
        old/new (the identity number masked). Nothing changed: nothing is written.
    """
    data, request = common.target("statrequest_update", context, data_dict, schema.update(),
                                  common.get_request, passed=("token",))
    actor = access.context_actor(context)
    token = data.get("token")
    refused = correction_refused(actor, request, token)
    if refused:  # also for a sysadmin, whom CKAN lets through every auth function
        raise tk.NotAuthorized(refused)
    if data["version"] != request.version:
        raise common.stale_version()
    current = {name: getattr(request, name) or "" for name in CORRECTABLE_FIELDS}
    # the whole record checked as on submission (a NIK's rule depends on the identity type)
    given = {name: data_dict[name] for name in CORRECTABLE_FIELDS
             if data_dict.get(name) is not None}
    fields = common.validate(current | given, schema.correction(), context)
    changes = {name: {"old": current[name], "new": fields.get(name) or ""}
               for name in CORRECTABLE_FIELDS if (fields.get(name) or "") != current[name]}
    v = access.view(actor, request, token)
    if not changes:
        return _show(request, actor, v.guest and _guest_token(request) or None)
    if "identity_number" in changes:  # the event log never holds the full number
        changes["identity_number"] = {k: dz.mask(n) for k, n in
                                      changes["identity_number"].items()}
    role = access.REQUESTER if v.is_requester else settings.workflow().front_desk_position
    with _committed():
        version = records.guarded_update(request.id, data["version"], {"updated_at": now_utc()})
        model.Session.refresh(request)
        for name in changes:  # through the ORM: the number is encrypted and its hash kept
            setattr(request, name, fields.get(name) or "")
        _event(request, actor, role or access.REQUESTER, CORRECTION_EVENT, request.state,
               request.state, "public", "", version, {"changes": changes})
    return _show(request, actor, v.guest and _guest_token(request) or None)


@tk.side_effect_free
def statrequest_event_list(context: dict[str, Any], data_dict: dict[str, Any]
                           ) -> list[dict[str, Any]]:
    """The request's timeline: all events for Diskominfo, public ones for the requester,
    and for a routed OPD also the internal events of its own steps."""
    data, request = common.target("statrequest_show", context, data_dict,
                                  schema.by_id(), common.get_request, passed=("token",))
    v = access.view(access.context_actor(context), request, data.get("token"))
    wf = settings.workflow()
    opd_states = frozenset(wf.states_waiting_for([access.OPD]))
    events = model.Session.scalars(
        select(Event).where(Event.request_id == request.id).order_by(Event.id)).all()
    return [dz.event_dict(e, v, wf) for e in events if v.event_visible(e, opd_states)]


def statrequest_override(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Sysadmin repair of a stuck request: put it in any state, with a logged reason."""
    data = common.authorized("statrequest_override", context, data_dict, schema.override())
    request = common.get_request(data["id"])
    wf = settings.workflow()
    if data["state"] not in wf.states:
        raise tk.ValidationError({"state": [_("Unknown state.")]})
    actor = access.context_actor(context)
    now = now_utc()
    values: dict[str, Any] = {"state": data["state"], "updated_at": now,
                              "closed_at": now if wf.is_final(data["state"]) else None}
    try:
        version = records.guarded_update(request.id, data["version"], values)
        _event(request, actor, "sysadmin", "override", request.state, data["state"], "internal",
               data["note"], version, {"override": True})
        model.Session.commit()
    except records.StaleVersion:
        model.Session.rollback()
        raise common.stale_version() from None
    model.Session.refresh(request)
    log.warning("statrequest override by %s: %s -> %s", actor.name, request.tracking_number,
                data["state"])
    return _show(request, actor)


@tk.side_effect_free
def statrequest_workflow_show(context: dict[str, Any], data_dict: dict[str, Any]
                              ) -> dict[str, Any]:
    """The active workflow: states, transitions and positions, with labels."""
    tk.check_access("statrequest_workflow_show", context, data_dict)
    wf = settings.workflow()
    language = lang()
    return {
        "initial": wf.initial,
        "final": sorted(wf.final),
        "positions": [{"code": c, "label": label.get(language)} for c, label in wf.positions.items()],
        "states": [
            {"name": s.name, "label": s.label.get(language),
             "official_label": s.label_for(wflib.OFFICIAL, language),
             "holder": s.holder, "sla": s.sla}
            for s in wf.states.values()
        ],
        "transitions": [_transition_dict(t, language) | {"from": list(t.sources)}
                        for t in wf.transitions.values()],
        "source": settings.get("workflow_file") or "default",
    }


# --- attachments --------------------------------------------------------------------------

def statrequest_attachment_create(context: dict[str, Any], data_dict: dict[str, Any]
                                  ) -> dict[str, Any]:
    """Add a file to a request: the requester while it is theirs to fix, the routed OPD
    while it waits for the data (kind `result`)."""
    data, request = common.target("statrequest_attachment_create", context, data_dict,
                                  schema.attachment_create(), common.get_request, passed=("kind",))
    prepared = attachments.prepare(data["kind"], data_dict["upload"], field="upload")
    actor = access.context_actor(context)
    v = access.view(actor, request)
    written = attachments.Written()
    try:
        opd_id = next(iter(actor.opd_ids & v.routed), None) if data["kind"] == "result" else None
        (row,) = _store_all(request, [prepared], written, actor, opd_id)
        model.Session.commit()
    except Exception:
        model.Session.rollback()
        written.discard()
        raise
    return dz.attachment_dict(row)


def _get_attachment(ref: str) -> Attachment:
    row = records.row(Attachment, ref)
    if row is None or row.deleted_at is not None:
        raise tk.ObjectNotFound(_("Attachment not found"))
    return row


@tk.side_effect_free
def statrequest_attachment_show(context: dict[str, Any], data_dict: dict[str, Any]
                                ) -> dict[str, Any]:
    data, row = common.target("statrequest_attachment_show", context, data_dict,
                              schema.by_id(), _get_attachment)
    return dz.attachment_dict(row)


@tk.side_effect_free
def statrequest_attachment_download(context: dict[str, Any], data_dict: dict[str, Any]
                                    ) -> dict[str, Any]:
    """Permission-checked access to a file's bytes.

    Over the API (JSON cannot carry bytes) it answers the file's metadata and `url`, the
    address that serves the bytes to the same caller. Called from Python it adds `stream`,
    an iterator of bytes whose first chunk is already read; an opened identity document is
    recorded at that moment, and only then.
    """
    data, row = common.target("statrequest_attachment_download", context, data_dict,
                              schema.by_id(), _get_attachment, passed=("token",))
    result = dz.attachment_dict(row) | {"url": _download_url(row, data.get("token"))}
    if context.get("api_version"):
        return result
    stream = _open_stream(row)
    if row.kind in attachments.PERSONAL_KINDS:
        model.Session.add(IdentityAccess(
            attachment_id=row.id, request_id=row.request_id,
            user_id=access.context_actor(context).user_id, accessed_at=now_utc()))
        model.Session.commit()
    return result | {"stream": stream}


def _download_url(row: Attachment, token: str | None) -> str:
    extra = {"token": token} if token else {}
    try:
        return tk.url_for("statrequest_portal.download", attachment_id=row.id,
                          _external=True, **extra)
    except RuntimeError:  # no application context (a job or the CLI)
        return ""


def _open_stream(row: Attachment) -> Iterator[bytes]:
    """The file's bytes, with the first chunk read now: a file missing from storage is a
    clear "not found" before anything is recorded or sent."""
    from ckan.lib import files

    try:
        chunks = iter(attachments.read(row.file_id or ""))
        first = next(chunks, b"")
    except (OSError, files.exc.FilesError, tk.ObjectNotFound):
        log.exception("file of attachment %s cannot be read", row.id)
        raise tk.ObjectNotFound(_("The file is missing from storage.")) from None

    def all_chunks() -> Iterator[bytes]:
        yield first
        yield from chunks

    return all_chunks()


def statrequest_attachment_delete(context: dict[str, Any], data_dict: dict[str, Any]
                                  ) -> dict[str, Any]:
    """Withdraw a file its uploader added, while the request is still in their hands.

    Files of the record (letters, and files handed in with a step) and other people's files
    are refused to everyone, sysadmins included: the rule is checked here, not only in the
    auth function that CKAN skips for sysadmins. A sysadmin's only way is a repair with a
    `reason`, recorded as an internal event of the request.

    :param id: the attachment; :param reason: (sysadmin repair) why the file must go
    """
    data, row = common.target("statrequest_attachment_delete", context, data_dict,
                              schema.attachment_delete(), _get_attachment)
    actor = access.context_actor(context)
    refused = deletion_refused(row, actor)
    if refused and not actor.sysadmin:
        raise tk.NotAuthorized(refused)
    if refused and not data.get("reason"):
        raise tk.ValidationError({"reason": [_(
            "A portal administrator may remove this file only as a recorded repair: give "
            "the reason.")]})
    with _committed():
        if refused:
            _record_removal(row, actor, data["reason"])
        row.deleted_at = now_utc()
        file_id, row.file_id = row.file_id, None
        if file_id:
            attachments.remove(file_id)
    if refused:
        log.warning("statrequest repair by %s: removed %s %s of %s (%s)", actor.name, row.kind,
                    row.id, row.request_id, data["reason"])
    return dz.attachment_dict(row)


def _record_removal(row: Attachment, actor: access.Actor, reason: str) -> None:
    """The internal event of a sysadmin's removal: who, why, and which bytes (hash)."""
    request = model.Session.get(Request, row.request_id)
    assert request is not None
    version = records.guarded_update(request.id, request.version, {"updated_at": now_utc()})
    _event(request, actor, "sysadmin", "override", request.state, request.state, "internal",
           reason, version, {"override": True, "removed_file": {
               "id": row.id, "kind": row.kind, "name": row.name, "sha256": row.sha256}})


# --- positions and holidays ---------------------------------------------------------------

def _position_dict(p: Position) -> dict[str, Any]:
    today = dt.date.today()
    return {
        "id": p.id, "position": p.position, **dz.user_fields(p.user_id),
        "valid_from": dz.iso(p.valid_from), "valid_to": dz.iso(p.valid_to),
        "acting": p.acting, "kind": p.kind, "note": p.note, "nip": p.nip, "rank": p.rank,
        "stands_in_for": p.stands_in_for,
        "stands_in_for_display": dz.user_display(p.stands_in_for) if p.stands_in_for else None,
        "revoked": p.revoked_at is not None,
        "active": p.revoked_at is None and p.valid_from <= today
        and (p.valid_to is None or p.valid_to >= today),
    }


def statrequest_position_assign(context: dict[str, Any], data_dict: dict[str, Any]
                                ) -> dict[str, Any]:
    """Give a user a position, for a date range.

    :param kind: definitif | plt (pelaksana tugas) | plh (pelaksana harian, needs an end
        date); the older `acting: true` means plt
    :param stands_in_for: the official a Plt/Plh stands in for (default: the definitive holder)
    :param nip, rank: NIP and pangkat/golongan, printed under the name on signed letters
    """
    data = common.authorized("statrequest_position_assign", context, data_dict, schema.position_assign())
    wf = settings.workflow()
    errors: dict[str, list[str]] = {}
    if data["position"] not in wf.positions:
        errors["position"] = [_("Unknown position.")]
    valid_from = data.get("valid_from") or dt.date.today()
    valid_from = valid_from.date() if isinstance(valid_from, dt.datetime) else valid_from
    valid_to = data.get("valid_to")
    valid_to = valid_to.date() if isinstance(valid_to, dt.datetime) else valid_to
    if valid_to and valid_to < valid_from:
        errors["valid_to"] = [_("The end date is before the start date.")]
    kind = data.get("kind") or ("plt" if data.get("acting") else "definitif")
    if kind == "plh" and not valid_to:
        errors["valid_to"] = [_("A Plh stands in for a limited time: give the end date.")]
    stands_in_for = data.get("stands_in_for") or None
    if stands_in_for and kind == "definitif":
        errors["stands_in_for"] = [_("Only a Plt or Plh stands in for another official.")]
    elif stands_in_for and stands_in_for == data["user"]:
        errors["stands_in_for"] = [_("An official cannot stand in for themselves.")]
    memberships = access._memberships(data["user"])
    need = access.CAPACITY_RANK.get(settings.position_min_capacity(), 1)
    if not any(n == settings.diskominfo_org() and access.CAPACITY_RANK.get(c, 0) >= need
               for _id, n, c in memberships):
        errors["user"] = [_(
            "The user must first be a member of the %(org)s organisation with at least the "
            "capacity %(capacity)s.") % {"org": settings.diskominfo_org(),
                                          "capacity": settings.position_min_capacity()}]
    if errors:
        raise tk.ValidationError(errors)
    actor = access.context_actor(context)
    row = Position(position=data["position"], user_id=data["user"], valid_from=valid_from,
                   valid_to=valid_to, acting=kind != "definitif", kind=kind,
                   stands_in_for=stands_in_for, rank=data.get("rank", ""),
                   note=data.get("note", ""), nip=data.get("nip", ""),
                   created_by=actor.user_id, created_at=now_utc())
    model.Session.add(row)
    model.Session.commit()
    return _position_dict(row)


def statrequest_position_revoke(context: dict[str, Any], data_dict: dict[str, Any]
                                ) -> dict[str, Any]:
    data = common.authorized("statrequest_position_revoke", context, data_dict, schema.by_id())
    row = model.Session.get(Position, data["id"])
    if row is None:
        raise tk.ObjectNotFound(_("Position assignment not found"))
    row.revoked_at = row.revoked_at or now_utc()
    model.Session.commit()
    return _position_dict(row)


@tk.side_effect_free
def statrequest_position_list(context: dict[str, Any], data_dict: dict[str, Any]
                              ) -> list[dict[str, Any]]:
    data = common.authorized("statrequest_position_list", context, data_dict, schema.position_list())
    stmt = select(Position).order_by(Position.position, Position.valid_from)
    if data.get("position"):
        stmt = stmt.where(Position.position == data["position"])
    if data.get("user"):
        stmt = stmt.where(Position.user_id == data["user"])
    rows = [_position_dict(p) for p in model.Session.scalars(stmt)]
    rows = rows if data.get("include_inactive") else [r for r in rows if r["active"]]
    # workload: open requests assigned to each person (shown beside the assignee choice)
    users = {r["user_id"] for r in rows}
    open_counts = dict(model.Session.execute(
        select(Request.assignee_id, func.count()).where(
            Request.assignee_id.in_(users), Request.state.notin_(settings.workflow().final))
        .group_by(Request.assignee_id)).all()) if users else {}
    for r in rows:
        r["open_assigned"] = open_counts.get(r["user_id"], 0)
    return rows


def _holiday_dict(h: Holiday) -> dict[str, Any]:
    return {"day": dz.iso(h.day), "name": h.name, "kind": h.kind}


def statrequest_holiday_create(context: dict[str, Any], data_dict: dict[str, Any]
                               ) -> dict[str, Any]:
    """Add a cuti bersama, regional holiday or other day off (or `hari_kerja`: a working
    day despite the national calendar); deadlines of open requests move accordingly."""
    data = common.authorized("statrequest_holiday_create", context, data_dict, schema.holiday_create())
    day = data["day"].date() if isinstance(data["day"], dt.datetime) else data["day"]
    if model.Session.get(Holiday, day) is not None:
        raise tk.ValidationError({"day": [_("This day is already in the list.")]})
    row = Holiday(day=day, name=data["name"], kind=data["kind"],
                  created_by=access.context_actor(context).user_id, created_at=now_utc())
    model.Session.add(row)
    model.Session.flush()
    records.recompute_open_due_dates()
    model.Session.commit()
    return _holiday_dict(row)


def statrequest_holiday_delete(context: dict[str, Any], data_dict: dict[str, Any]
                               ) -> dict[str, Any]:
    data = common.authorized("statrequest_holiday_delete", context, data_dict, schema.holiday_delete())
    day = data["day"].date() if isinstance(data["day"], dt.datetime) else data["day"]
    row = model.Session.get(Holiday, day)
    if row is None:
        raise tk.ObjectNotFound(_("Holiday not found"))
    result = _holiday_dict(row)
    model.Session.delete(row)
    model.Session.flush()
    records.recompute_open_due_dates()
    model.Session.commit()
    return result


@tk.side_effect_free
def statrequest_holiday_list(context: dict[str, Any], data_dict: dict[str, Any]
                             ) -> list[dict[str, Any]]:
    """Days the administrators added, and (with `year`) the national holidays of that year."""
    data = common.authorized("statrequest_holiday_list", context, data_dict, schema.holiday_list())
    rows = [_holiday_dict(h) for h in model.Session.scalars(select(Holiday).order_by(Holiday.day))]
    year = data.get("year")
    if year:
        rows = [r for r in rows if r["day"].startswith(f"{year}-")]
        calendar = settings.calendar()
        for day in (dt.date(int(year), 1, 1) + dt.timedelta(n) for n in range(366)):
            if day.year == int(year) and (name := calendar.holiday_name(day)) and \
                    not any(r["day"] == day.isoformat() for r in rows):
                rows.append({"day": day.isoformat(), "name": name, "kind": "nasional"})
        rows.sort(key=lambda r: r["day"])
    return rows


