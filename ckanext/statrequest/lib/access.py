"""Who a user is for the service, and what each one may see of a request and its files.

The auth functions, the dictization and CKAN's file hooks all ask this module, so a rule is
written once.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import ckan.model as model
from sqlalchemy import Date, and_, bindparam, exists, literal, null, or_, select, union_all

from ckanext.statrequest import settings
from ckanext.statrequest.core.workflow import OFFICIAL, REQUESTER_AUDIENCE
from ckanext.statrequest.lib.attachments import PERSONAL_KINDS
from ckanext.statrequest.model import Attachment, Event, Position, Request, RequestOrganization
from ckanext.statrequest.model.statements import built_once

CAPACITY_RANK = {"member": 1, "editor": 2, "admin": 3}
# who speaks for an OPD (a data-owning organisation) on a request routed to it
OPD_CAPACITIES = ("admin", "editor")
REQUESTER = "pemohon"
OPD = "opd"


@dataclass(frozen=True)
class Actor:
    user_id: str | None
    name: str | None
    sysadmin: bool = False
    positions: dict[str, bool] = field(default_factory=dict)  # position code -> acting
    opd_ids: frozenset[str] = frozenset()  # organisations where the user is admin/editor
    diskominfo_admin: bool = False

    @property
    def anonymous(self) -> bool:
        return self.user_id is None

    @property
    def is_staff(self) -> bool:
        """A Diskominfo position holder (or the portal administrator)."""
        return bool(self.positions) or self.sysadmin

    @property
    def can_administer(self) -> bool:
        """May manage positions and holidays."""
        return self.sysadmin or self.diskominfo_admin

    @property
    def audience(self) -> str:
        """Whose words the workflow's texts are shown in where no one request decides it
        (lists' filters, statistics): the officials' for Diskominfo and OPD members."""
        return OFFICIAL if self.is_staff or self.opd_ids else REQUESTER_AUDIENCE


@built_once
def _memberships_statement() -> Any:
    """(organisation id, name, capacity) of the active memberships of :user_id."""
    return (
        select(model.Group.id, model.Group.name, model.Member.capacity)
        .join(model.Member, model.Member.group_id == model.Group.id)
        .where(
            model.Member.table_name == "user",
            model.Member.table_id == bindparam("user_id"),
            model.Member.state == "active",
            model.Group.state == "active",
            model.Group.is_organization.is_(True),
        )
    )


@built_once
def _positions_statement() -> Any:
    """(position, acting) assigned to :user_id on the day :on and not revoked."""
    on = bindparam("on", type_=Date)
    return select(Position.position, Position.acting).where(
        Position.user_id == bindparam("user_id"),
        Position.revoked_at.is_(None),
        Position.valid_from <= on,
        or_(Position.valid_to.is_(None), Position.valid_to >= on),
    )


@built_once
def _actor_statement() -> Any:
    """Both of the above in one round trip ("m" and "p" rows): every action call asks."""
    m, p = _memberships_statement().subquery(), _positions_statement().subquery()
    return union_all(
        select(literal("m"), m.c.id, m.c.name, m.c.capacity, null()),
        select(literal("p"), p.c.position, null(), null(), p.c.acting),
    )


def _memberships(user_id: str) -> list[tuple[str, str, str]]:
    """(organisation id, organisation name, capacity) of the user's active memberships."""
    rows = model.Session.execute(_memberships_statement(), {"user_id": user_id}).all()
    return [(r[0], r[1], r[2]) for r in rows]


def _may_hold(memberships: list[tuple[str, str, str]]) -> bool:
    """Positions count only while the user is a member of the Diskominfo organisation with
    the configured capacity."""
    need = CAPACITY_RANK.get(settings.position_min_capacity(), 1)
    org = settings.diskominfo_org()
    return any(name == org and CAPACITY_RANK.get(cap, 0) >= need for _, name, cap in memberships)


def _held(rows: Any) -> dict[str, bool]:
    """position code -> acting, of (position, acting) rows."""
    held: dict[str, bool] = {}
    for code, acting in rows:
        # a definitive holder outranks an acting assignment of the same position
        held[code] = held.get(code, True) and bool(acting)
    return held


def positions_held(user_id: str, on: dt.date | None = None,
                   memberships: list[tuple[str, str, str]] | None = None) -> dict[str, bool]:
    """Positions the user holds on a day: assigned for that date, not revoked, and still a
    member of the Diskominfo organisation with the configured capacity."""
    memberships = _memberships(user_id) if memberships is None else memberships
    if not _may_hold(memberships):
        return {}
    return _held(model.Session.execute(
        _positions_statement(), {"user_id": user_id, "on": on or dt.date.today()}).all())


def actor_for(user: object) -> Actor:
    """The actor behind a user name or id, or a `model.User`.

    Anything else is anonymous: None, "", flask-login's AnonymousUser (what CKAN puts in
    `auth_user_obj` for an API call without a token), an unknown name, a deleted or pending
    account.
    """
    if isinstance(user, str):
        # a NUL or an absurd length cannot name a user (and PostgreSQL refuses a NUL)
        user = model.User.get(user) if 0 < len(user) <= 200 and "\x00" not in user else None
    if not isinstance(user, model.User) or user.state != "active":
        return Actor(user_id=None, name=None)
    rows = model.Session.execute(_actor_statement(),
                                 {"user_id": user.id, "on": dt.date.today()}).all()
    memberships = [(r[1], r[2], r[3]) for r in rows if r[0] == "m"]
    org = settings.diskominfo_org()
    return Actor(
        user_id=user.id,
        name=user.name,
        sysadmin=bool(user.sysadmin),
        positions=_held((r[1], r[4]) for r in rows if r[0] == "p") if _may_hold(memberships)
        else {},
        opd_ids=frozenset(gid for gid, _, cap in memberships if cap in OPD_CAPACITIES),
        diskominfo_admin=any(n == org and cap == "admin" for _, n, cap in memberships),
    )


def context_actor(context: dict[str, Any]) -> Actor:
    """Who calls an action, auth function or CKAN hook: the user object CKAN put in the
    context (an API call, a page, or any call once `check_access` ran), else the user name."""
    return actor_for(context.get("auth_user_obj") or context.get("user") or None)


# What an auth function worked out (the actor, its view of the request), for the action of
# the same call: common.authorized/target empty it before check_access, so nothing outlives
# one call (a context reused after a transition or a new position never reads a stale one).
KEPT = "__statrequest_kept"


def _user_key(context: dict[str, Any]) -> Any:
    user = context.get("auth_user_obj") or context.get("user") or None
    return ("id", user.id) if isinstance(user, model.User) else ("name", user)


def kept_actor(context: dict[str, Any]) -> Actor:
    """context_actor(), built once per call by the auth function and its action (three
    queries each: the user, their memberships, their positions)."""
    kept = context.setdefault(KEPT, {})
    key = _user_key(context)
    if kept.get("actor", (None,))[0] != key:
        kept["actor"] = (key, context_actor(context))
        kept.pop("view", None)
    return kept["actor"][1]


def kept_view(context: dict[str, Any], request: Request, token: str | None = None) -> View:
    """view() of the request by the caller, built once per call (auth function and action)."""
    actor = kept_actor(context)
    kept = context[KEPT]
    key = (request.id, token)
    if kept.get("view", (None,))[0] != key or kept["view"][1].request is not request:
        kept["view"] = (key, view(actor, request, token))
    return kept["view"][1]


def routed_org_ids(request_id: str) -> set[str]:
    return set(model.Session.scalars(
        select(RequestOrganization.organization_id).where(
            RequestOrganization.request_id == request_id, RequestOrganization.routed.is_(True)
        )
    ))


@dataclass(frozen=True)
class View:
    """What one actor may see of one request."""

    actor: Actor
    request: Request
    routed: frozenset[str]
    guest: bool = False  # holds the signed guest link of this request
    # the request's organisations as view() read them (routed is the routed ones' ids), so
    # that a show reads them once; None where a view was made from a list's routed ids
    links: tuple[Any, ...] | None = None

    @property
    def is_requester(self) -> bool:
        if self.guest:
            return True
        return self.actor.user_id is not None and self.actor.user_id == self.request.requester_id

    @property
    def is_routed_opd(self) -> bool:
        return bool(self.actor.opd_ids & self.routed)

    @property
    def audience(self) -> str:
        """Whose words this reader gets: the requester (a guest too) reads the texts written to
        them, even an official reading their own request; officials and the routed OPD the
        officials' texts; anyone else (no access to the details) the requester's."""
        if self.is_requester:
            return REQUESTER_AUDIENCE
        return OFFICIAL if self.internal or self.is_routed_opd else REQUESTER_AUDIENCE

    @property
    def summary(self) -> bool:
        return self.is_requester or self.actor.is_staff or self.is_routed_opd

    @property
    def personal_data(self) -> bool:
        """NIK, identity document, phone and address."""
        return self.is_requester or self.actor.is_staff

    @property
    def documents(self) -> bool:
        """Request letter and form, results, the signed reply."""
        return self.summary

    @property
    def internal(self) -> bool:
        return self.actor.is_staff

    def roles(self) -> set[str]:
        roles = set(self.actor.positions)
        if self.is_requester:
            roles.add(REQUESTER)
        if self.is_routed_opd:
            roles.add(OPD)
        return roles

    @property
    def is_assignee(self) -> bool:
        return self.actor.user_id is not None and self.actor.user_id == self.request.assignee_id

    def event_visible(self, event: Event, opd_states: frozenset[str]) -> bool:
        if self.internal or event.visibility == "public":
            return True
        # an OPD sees the internal events of its own steps (routing to it, its answers)
        return self.is_routed_opd and (
            event.from_state in opd_states or event.to_state in opd_states
        )


def view(actor: Actor, request: Request, guest_token: str | None = None) -> View:
    from ckanext.statrequest.lib import guest

    is_guest = request.requester_id is None and guest.request_id_from(guest_token) == request.id
    links = organization_links(request.id)
    return View(actor, request, frozenset(o.id for o in links if o.routed), guest=is_guest,
                links=links)


def organization_links(request_id: str) -> tuple[Any, ...]:
    """The request's organisations (id, name, title, routed): suggested and routed OPD."""
    return tuple(model.Session.execute(_links_statement(), {"request_id": request_id}).all())


@built_once
def _links_statement() -> Any:
    return (
        select(model.Group.id, model.Group.name, model.Group.title, RequestOrganization.routed)
        .join(RequestOrganization, RequestOrganization.organization_id == model.Group.id)
        .where(RequestOrganization.request_id == bindparam("request_id")))


def results_released(request: Request) -> bool:
    """True once the final signature is made: until then Diskominfo may still reject what
    the OPD sent, and the signed reply is what names the data delivered."""
    if request.state not in settings.workflow().final or not request.letter_attachment_id:
        return False
    letter = model.Session.get(Attachment, request.letter_attachment_id)
    return letter is not None and letter.kind == "signed_reply" and letter.deleted_at is None


def sees_results(v: View) -> bool:
    """Diskominfo and the routed OPD see the OPD's answer at once, the requester only
    once it was delivered with the signed reply."""
    return v.internal or v.is_routed_opd or (v.documents and results_released(v.request))


def attachment_visible(a: Attachment, v: View) -> bool:
    """Whether the viewer may see (and download) one attachment of the request."""
    if a.kind in PERSONAL_KINDS:
        return v.personal_data
    if a.kind == "draft_reply":
        return v.internal
    if a.kind == "result":
        return sees_results(v)
    return v.documents


def caller_id(actor: Actor) -> Any:
    """The caller's user id in SQL, as the bind parameter `caller_id`."""
    return bindparam("caller_id", actor.user_id)


def caller_opds(actor: Actor) -> Any:
    """The caller's OPD ids in SQL (`IN` them), as the bind parameter `caller_opds`."""
    return bindparam("caller_opds", sorted(actor.opd_ids), expanding=True)


def caller_values(actor: Actor) -> dict[str, Any]:
    """The values of caller_id() and caller_opds() for this caller."""
    return {"caller_id": actor.user_id, "caller_opds": sorted(actor.opd_ids)}


def shape_of(actor: Actor) -> tuple[Any, ...]:
    """What decides the form of a statement about the caller, as opposed to its values
    (caller_values): positions held, portal administrator, OPD member, logged in."""
    return (tuple(sorted(actor.positions)), actor.sysadmin, bool(actor.opd_ids),
            actor.user_id is not None)


def shaped_actor(shape: tuple[Any, ...]) -> Actor:
    """An actor of that shape whose own values are placeholders, to build a statement kept
    for every caller of the shape (run with caller_values(), a placeholder matches nothing)."""
    positions, sysadmin, in_opd, logged_in = shape
    return Actor(user_id="(caller)" if logged_in else None, name=None, sysadmin=sysadmin,
                 positions=dict.fromkeys(positions, False),
                 opd_ids=frozenset({"(caller's OPD)"}) if in_opd else frozenset())


def visible_requests_clause(actor: Actor):
    """SQL condition for the requests an actor may list (the caller's values as bind
    parameters: caller_values)."""
    if actor.is_staff:
        return and_(True)
    conditions = []
    if actor.user_id:
        conditions.append(Request.requester_id == caller_id(actor))
    if actor.opd_ids:
        conditions.append(routed_to(caller_opds(actor)))
    return or_(*conditions) if conditions else and_(False)


def routed_to(organization_ids: frozenset[str] | list[str] | Any, only_routed: bool = True):
    """SQL condition: the request concerns one of these organisations.

    EXISTS probes the link table's primary key per request; an IN (subquery) would read
    every request ever routed to the OPD (thousands after a few years) on each page.
    """
    condition = exists().where(
        RequestOrganization.request_id == Request.id,
        RequestOrganization.organization_id.in_(organization_ids),
    )
    return condition.where(RequestOrganization.routed.is_(True)) if only_routed else condition
