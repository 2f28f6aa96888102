"""The OPD (organisasi perangkat daerah): the organisations a request can concern and be
routed to.

Read straight from CKAN's group table: `organization_list(all_fields=True)` stops at
`ckan.group_and_organization_list_all_fields_max` (25 by default), so a regency with more
OPD would silently lose some of them from the request form and from routing.
"""
from __future__ import annotations

from dataclasses import dataclass

import ckan.model as model
from sqlalchemy import func, select

from ckanext.statrequest import settings


@dataclass(frozen=True)
class Opd:
    id: str
    name: str
    title: str


def offered() -> list[Opd]:
    """Every active OPD, sorted by title (then name), for the choice lists of the pages."""
    group = model.Group
    title = func.coalesce(func.nullif(group.title, ""), group.name)
    query = select(group.id, group.name, title).where(
        group.state == "active", group.is_organization.is_(True))
    names = settings.opd_organizations()
    query = query.where(group.name.in_(names)) if names else query.where(
        group.name != settings.diskominfo_org())
    rows = model.Session.execute(query.order_by(func.lower(title), group.name)).all()
    return [Opd(id=r[0], name=r[1], title=r[2]) for r in rows]


def is_opd(group: model.Group) -> bool:
    """Whether an active organisation is an OPD: one of those configured, or, when none are,
    any organisation but Diskominfo (which handles the requests, it does not answer them)."""
    if not group.is_organization or group.state != "active":
        return False
    names = settings.opd_organizations()
    return group.name in names if names else group.name != settings.diskominfo_org()
