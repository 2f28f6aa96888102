"""One page of a request list with its total, its routed OPD and its assignees' names, read
in one statement (statrequest_list; #16, lists that stay flat at a million requests).

The action says which requests match (`where`) and, when the states a match can be in are
known, the conditions per state (`per_state`). Two plans:

- sorted by urgency/due with the states known: one top-(offset+limit) per state, merged
  (UNION ALL). Each part walks the (state, sla_due_at, created_at, id) index (migration
  0015) and stops after the page, where one query over every state would read and sort
  every match (7,850 waiting rows at 1M);
- otherwise: the first offset + COUNT_CAP + 1 matches in any order (a bitmap or a scan that
  stops there) are kept once (a MATERIALIZED CTE) and, when that is all of them, the page is
  sorted from it with the exact count: a search reads its matches once. Past the cap the page
  is its own ordered query (an index walk that stops after the page).

The total is exact up to offset + COUNT_CAP matches; beyond that it is that bound and
`lower_bound` is true (pages show "1.000+"), so a broad list never counts a million rows.
Reading the rows, the count, the routed OPD and the assignee names in the page's statement
saves three round trips a call (the inbox: 10 statements → 7).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import ckan.model as model
from sqlalchemy import Integer, bindparam, func, select, union_all

from ckanext.statrequest.model import Request, RequestOrganization
from ckanext.statrequest.model.statements import built_once

COUNT_CAP = 1000  # matches counted past the page's offset; beyond it the count is a bound


@dataclass
class Page:
    rows: list[Request]
    count: int
    lower_bound: bool  # more than `count` match
    routed: dict[str, frozenset[str]] = field(default_factory=dict)  # request id: OPD ids
    names: dict[str, str] = field(default_factory=dict)  # assignee id: display name


def order_of(rows: Any, sort: str) -> tuple[Any, ...]:
    """The list's order on the id, sla_due_at and created_at columns of `rows` (a table
    or subquery); the id last, so that equal dates never swap places between pages."""
    c = rows.c
    return {
        "urgency": (c.sla_due_at.asc().nulls_last(), c.created_at.asc()),
        "due": (c.sla_due_at.asc().nulls_last(), c.created_at.asc()),
        "newest": (c.created_at.desc(),),
        "oldest": (c.created_at.asc(),),
    }[sort] + (c.id,)


@lru_cache(maxsize=8)
def _table_order(sort: str) -> tuple[Any, ...]:
    """order_of() the requests table itself, built once per sort (each inbox call orders
    one part per state by it)."""
    return order_of(Request.__table__, sort)


def keys(source: Any, *where: Any) -> Any:
    """The id, deadline and date of the matches in `source` (what a page is sorted on)."""
    c = source.c if hasattr(source, "c") else source  # a subquery or a mapped table
    return select(c.id, c.sla_due_at, c.created_at).where(*where)


@dataclass(frozen=True)
class PerStatePlan:
    """The statement of a page of the per-state plan: the page's rows with their extras and
    the total (`rows`), and the total alone (`total`, for an empty page). The page's bounds
    are bind parameters (`page_end`, `page_limit`, `page_offset`, `count_until`), so one
    plan serves every page of its shape (statrequest_list keeps the inbox's)."""
    rows: Any
    total: Any


def per_state_plan(per_state: dict[str, list[Any]] | None, sort: str) -> PerStatePlan | None:
    """One top-(offset+limit) per state, merged (UNION ALL), sorted by urgency or due; None
    where that plan does not apply (the states unknown, or a date order)."""
    if sort not in ("urgency", "due") or not per_state:
        return None
    end, until = bindparam("page_end", type_=Integer), bindparam("count_until", type_=Integer)
    # each part in parentheses with its own ORDER BY and LIMIT (SQLAlchemy groups them)
    merged = union_all(*(keys(Request, *cond).order_by(*_table_order(sort)).limit(end)
                         for cond in per_state.values())).subquery()
    page = select(merged).order_by(*order_of(merged, sort)) \
        .limit(bindparam("page_limit", type_=Integer)) \
        .offset(bindparam("page_offset", type_=Integer))
    # per state `state = s`: index-only scans, no OR to check on each row
    counted = union_all(*(select(Request.id).where(*cond).limit(until)
                          for cond in per_state.values())).subquery()
    total = select(func.count()).select_from(
        select(counted.c.id).limit(until).subquery()).scalar_subquery()
    return PerStatePlan(_rows_statement(page.subquery(), total, sort), select(total))


def fetch_planned(plan: PerStatePlan, limit: int, offset: int,
                  values: dict[str, Any] | None = None) -> Page:
    """The page `plan` reads for these bounds; `values`: its other bind parameters (the
    caller's, when the plan is kept for every caller of a shape)."""
    cap = offset + COUNT_CAP
    bound = {"page_end": offset + limit, "page_limit": limit, "page_offset": offset,
             "count_until": cap + 1, **(values or {})}
    rows, routed, names, n = _loaded(model.Session.execute(plan.rows, bound).all(), True)
    if n is None:  # an empty page carries no count: ask for it alone
        n = model.Session.scalar(plan.total, bound)
    return Page(rows, min(n, cap), n > cap, routed, names)


def fetch(where: list[Any], per_state: dict[str, list[Any]] | None, sort: str, limit: int,
          offset: int, source: Any = Request, walk: tuple[Any, list[Any]] | None = None
          ) -> Page:
    """`source`: the table the matches' keys are read from, Request or OpenRequest (a text
    search among open requests; `where` then joins Request itself if it needs it), or a
    subquery of those keys (id, sla_due_at, created_at: the open requests' words). `walk`:
    the table and conditions of the page past the cap when not those (a subquery of words has
    no date order to walk)."""
    planned = per_state_plan(per_state, sort)
    if planned is not None:
        return fetch_planned(planned, limit, offset)
    cap = offset + COUNT_CAP
    first = keys(source, *where).limit(cap + 1).cte("first_matches").prefix_with("MATERIALIZED")
    total = select(func.count()).select_from(first).scalar_subquery()
    page = select(first).order_by(*order_of(first, sort)).limit(limit).offset(offset)
    rows, routed, names, n = _loaded(model.Session.execute(
        _rows_statement(page.subquery(), total, sort)).all(), True)
    if n is None:
        n = model.Session.scalar(select(total))
    if n <= cap:
        return Page(rows, n, False, routed, names)
    # more than the cap match: the page is its own ordered walk that stops after the page
    walk_source, walk_where = walk or (source, where)
    ordered = keys(walk_source, *walk_where).subquery()
    page = select(ordered).order_by(*order_of(ordered, sort)).limit(limit).offset(offset)
    rows, routed, names, _none = _loaded(model.Session.execute(
        _rows_statement(page.subquery(), None, sort)).all(), False)
    return Page(rows, cap, True, routed, names)


@built_once
def _row_extras() -> tuple[Any, Any]:
    """A row's routed OPD (array of ids) and its assignee's name, correlated to the request."""
    org = RequestOrganization
    routed = select(func.array_agg(org.organization_id)).where(
        org.request_id == Request.id, org.routed.is_(True)).scalar_subquery()
    assignee = select(func.coalesce(func.nullif(model.User.fullname, ""), model.User.name)) \
        .where(model.User.id == Request.assignee_id).scalar_subquery()
    return routed, assignee


def _rows_statement(page: Any, total: Any, sort: str) -> Any:
    """The requests of `page` in its order, with what their list rows show besides (and
    the total, if given)."""
    columns = [Request, *_row_extras()] + ([total] if total is not None else [])
    return select(*columns).join(page, page.c.id == Request.id).order_by(*order_of(page, sort))


def _loaded(result: Any, with_total: bool
            ) -> tuple[list[Request], dict[str, frozenset[str]], dict[str, str], int | None]:
    """The rows of a _rows_statement, their routed OPD, assignee names and the total."""
    rows = [r[0] for r in result]
    routed_map = {r[0].id: frozenset(r[1]) for r in result if r[1]}
    names = {r[0].assignee_id: r[2] for r in result if r[0].assignee_id and r[2]}
    return rows, routed_map, names, (result[0][3] if result and with_total else None)
