"""Migration 0008 numbers the requests that existed before it in the incoming-letter register:
in the order they came, per year, without holes, and the register goes on from there."""
from __future__ import annotations

import ckan.model as model
import pytest
from sqlalchemy import select, text
from support import submit

from ckanext.statrequest.core.numbering import format_agenda_number
from ckanext.statrequest.model import Request

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_existing_requests_are_numbered_in_order(office, migrate_db_for):
    ids = [submit(title=f"Permintaan {n}")["id"] for n in range(3)]
    year = int(model.Session.get(Request, ids[0]).tracking_number.split("-")[1])
    model.Session.remove()
    migrate_db_for("statrequest", version="0007_outbox_without_request", forward=False)
    # an older request of another year, as the book had it before the register existed
    model.Session.execute(text(
        "UPDATE statrequest_request SET tracking_number = 'PDS-2025-00099', "
        "created_at = created_at - interval '1 year' WHERE id = :id"), {"id": ids[2]})
    model.Session.commit()
    migrate_db_for("statrequest", version="head", forward=True)
    model.Session.remove()
    numbers = dict(model.Session.execute(select(Request.id, Request.agenda_number)).all())
    assert numbers == {ids[0]: format_agenda_number(year, 1), ids[1]: format_agenda_number(year, 2),
                       ids[2]: format_agenda_number(2025, 1)}
    assert {r.channel for r in model.Session.scalars(select(Request))} == {"portal"}
    # the counter goes on after the backfilled numbers
    assert submit()["agenda_number"] == format_agenda_number(year, 3)
