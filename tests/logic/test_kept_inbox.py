"""The plain inbox (waiting_for_me, no filter) runs one statement kept per caller's shape
(positions, OPD member, logged in) with the caller's values as bind parameters (#16): every
caller of a shape sees their own inbox, the kept statement holds no caller's value, and it
lists exactly what the statement built for that caller alone lists."""
from __future__ import annotations

import pytest
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter
from support import act, fire, submit, walk

from ckanext.statrequest import settings
from ckanext.statrequest.lib import access, listing
from ckanext.statrequest.logic.action import request as request_action

from .test_corrections import ask_for_changes

pytestmark = pytest.mark.usefixtures("with_plugins")


def inbox_ids(user: str, **page) -> list[str]:
    return [r["id"] for r in act(user, "statrequest_list", waiting_for_me=True,
                                 **page)["results"]]


def kept_plan(user: str) -> listing.PerStatePlan | None:
    actor = access.actor_for(user)
    found = request_action._KEPT_INBOX.get(
        (id(settings.workflow()), access.shape_of(actor), "urgency"))
    return found[1] if found else None


def bound_values(statement) -> list:
    values = []
    for element in visitors.iterate(statement):
        if isinstance(element, BindParameter):
            values.extend(element.value if isinstance(element.value, list) else [element.value])
    return values


def built_for(user: str, limit: int = 20, offset: int = 0) -> list[str]:
    """The same inbox from the statement built for this caller alone (their values in it)."""
    actor = access.actor_for(user)
    wf, calendar = settings.workflow(), settings.calendar()
    where, per_state, source, walked = request_action._plan(
        actor, {"waiting_for_me": True}, wf, calendar, request_action.now_utc(), "urgency")
    page = listing.fetch(where, per_state, "urgency", limit, offset, source=source, walk=walked)
    return [r.id for r in page.rows]


def test_callers_of_one_shape_each_see_their_own_inbox(office):
    dinkes, didik = office.opd["dinas-kesehatan"], office.opd["dinas-pendidikan"]
    # two staff members (one position), each assigned their own request
    first = walk(office, submit(title="Data satu")["id"], "disposisi_ke_kasi")
    second = walk(office, submit(title="Data dua")["id"], "disposisi_ke_kasi")
    fire("kasi", first, "tugaskan_staf", assignee="staf1", instruction="Siapkan.")
    fire("kasi", second, "tugaskan_staf", assignee="staf2", instruction="Siapkan.")
    assert inbox_ids("staf1") == [first]
    assert inbox_ids("staf2") == [second]
    staff_plan = kept_plan("staf1")
    assert staff_plan is not None and kept_plan("staf2") is staff_plan  # one statement
    # two OPD (admins of one shape): each sees only what waits for its own answer
    fire("staf1", first, "teruskan_ke_opd", opd=[dinkes["id"]])
    fire("staf2", second, "teruskan_ke_opd", opd=[didik["id"]])
    assert inbox_ids(dinkes["admin"]) == [first]
    assert inbox_ids(didik["admin"]) == [second]
    assert inbox_ids(office.opd["dinas-pertanian"]["admin"]) == []
    assert kept_plan(dinkes["admin"]) is kept_plan(didik["admin"]) is not None
    assert inbox_ids("staf1") == inbox_ids("staf2") == []
    # two requesters: each sees their own request sent back to them
    third = submit("pemohon1", title="Data tiga")["id"]
    fourth = submit("pemohon2", title="Data empat")["id"]
    ask_for_changes(third)
    ask_for_changes(fourth)
    assert inbox_ids("pemohon1") == [third]
    assert inbox_ids("pemohon2") == [fourth]
    assert inbox_ids("other") == []
    assert kept_plan("pemohon1") is kept_plan("pemohon2") is not None

    # no kept statement holds a value of any caller: their ids are bind parameters
    callers = ["staf1", "staf2", dinkes["admin"], didik["admin"], "pemohon1", "pemohon2",
               "other", "sekretaris"]
    actors = [access.actor_for(u) for u in callers]
    secrets = {a.user_id for a in actors} | {o for a in actors for o in a.opd_ids}
    plans = [p for _wf, p in request_action._KEPT_INBOX.values() if p is not None]
    assert len(plans) >= 3
    for plan in plans:
        assert not secrets & set(bound_values(plan.rows)), "a caller's value in a kept plan"
        assert not secrets & set(bound_values(plan.total))


def test_the_kept_inbox_lists_what_the_callers_own_statement_lists(office):
    dinkes = office.opd["dinas-kesehatan"]
    made = [submit(title=f"Data {n}")["id"] for n in range(7)]
    for rid in made[:3]:
        walk(office, rid, "teruskan_ke_opd")
    walk(office, made[3], "teruskan_ke_kadis")
    ask_for_changes(made[4])
    for user in ("sekretaris", "kadis", "staf1", "staf2", dinkes["admin"], "pemohon1",
                 "pemohon2", office.sysadmin):
        for limit, offset in ((20, 0), (2, 0), (2, 2), (1, 3), (5, 50)):
            assert inbox_ids(user, limit=limit, offset=offset) == built_for(user, limit, offset), \
                (user, limit, offset)
    assert set(inbox_ids("sekretaris")) == {made[5], made[6]}
    assert inbox_ids("pemohon1") == [made[4]]
    # a filter leaves the kept statement: the same caller, filtered, gets the filtered list
    filtered = act("sekretaris", "statrequest_list", waiting_for_me=True, q="Data 6")
    assert [r["id"] for r in filtered["results"]] == [made[6]]
