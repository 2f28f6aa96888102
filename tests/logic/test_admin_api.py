"""Positions, holidays and the workflow through the action API."""
from __future__ import annotations

import datetime as dt

import ckantoolkit as tk
import pytest
from freezegun import freeze_time
from support import act, submit

from ckanext.statrequest import settings

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_positions_only_for_diskominfo_members(office):
    with pytest.raises(tk.ValidationError) as err:
        act(office.sysadmin, "statrequest_position_assign", position="staf", user="pemohon2")
    assert "member" in str(err.value.error_dict["user"])
    with pytest.raises(tk.ValidationError):
        act(office.sysadmin, "statrequest_position_assign", position="presiden", user="staf1")
    with pytest.raises(tk.ValidationError):
        act(office.sysadmin, "statrequest_position_assign", position="staf", user="staf1",
            valid_from="2026-05-02", valid_to="2026-05-01")


def test_diskominfo_admin_manages_positions_others_cannot(office):
    # kadis is an admin of the Diskominfo organisation
    row = act("kadis", "statrequest_position_assign", position="staf", user="kasi")
    assert row["active"]
    for user in ("sekretaris", "pemohon1", "admin-kesehatan"):
        with pytest.raises(tk.NotAuthorized):
            act(user, "statrequest_position_assign", position="staf", user="kasi")
    with pytest.raises(tk.NotAuthorized):
        act("pemohon1", "statrequest_position_list")
    staff = act("kasi", "statrequest_position_list", position="staf")
    assert {p["user_name"] for p in staff} == {"staf1", "staf2", "kasi"}
    act("kadis", "statrequest_position_revoke", id=row["id"])
    staff = act("kasi", "statrequest_position_list", position="staf")
    assert {p["user_name"] for p in staff} == {"staf1", "staf2"}


def test_holiday_added_while_a_request_is_open_moves_its_deadline(office):
    with freeze_time("2026-12-14 03:00:00"):  # Monday 10:00 WIB
        r = submit()
        assert r["sla_due_at"].startswith("2026-12-21T16:00")  # day 0 + 5 working days
        act(office.sysadmin, "statrequest_holiday_create", day="2026-12-16",
            name="Hari Jadi Kabupaten", kind="libur_daerah")
        moved = act("sekretaris", "statrequest_show", id=r["id"])
        assert moved["sla_due_at"].startswith("2026-12-22T16:00")
        with pytest.raises(tk.ValidationError):
            act(office.sysadmin, "statrequest_holiday_create", day="2026-12-16",
                name="Dua kali", kind="libur_daerah")
        act(office.sysadmin, "statrequest_holiday_delete", day="2026-12-16")
        back = act("sekretaris", "statrequest_show", id=r["id"])
        assert back["sla_due_at"].startswith("2026-12-21T16:00")


def test_request_on_the_eve_of_a_holiday_with_cuti_bersama(office):
    # Christmas 2026 falls on Friday 25 December; 24 December is cuti bersama.
    act(office.sysadmin, "statrequest_holiday_create", day="2026-12-24",
        name="Cuti Bersama Natal", kind="cuti_bersama")
    with freeze_time("2026-12-23 09:30:00"):  # Wednesday 16:30 WIB, after office hours
        r = submit()
    # counts from Monday 28 Dec (day 0); working days 29, 30, 31 Dec, 4 Jan and -- past
    # New Year (1 Jan) and Isra Mikraj (5 Jan 2027) -- 6 Jan
    assert r["sla_due_at"].startswith("2027-01-06T16:00")


def test_holiday_kinds_and_listing(office):
    with pytest.raises(tk.NotAuthorized):
        act("pemohon1", "statrequest_holiday_create", day="2026-12-30", name="x",
            kind="cuti_bersama")
    with pytest.raises(tk.ValidationError):
        act(office.sysadmin, "statrequest_holiday_create", day="bukan-tanggal", name="x",
            kind="cuti_bersama")
    with pytest.raises(tk.ValidationError):
        act(office.sysadmin, "statrequest_holiday_create", day="2026-12-30", name="x",
            kind="pesta")
    listed = act(None, "statrequest_holiday_list", year=2026)
    assert any(h["name"] and h["day"] == "2026-08-17" for h in listed)  # Independence Day


def test_workflow_show_is_public_and_complete(office):
    wf = act(None, "statrequest_workflow_show")
    assert wf["initial"] == "diajukan"
    assert {s["name"] for s in wf["states"]} >= {"diajukan", "menunggu_opd", "selesai"}
    # every transition of the file, the extension and the objection's two steps included
    assert len(wf["transitions"]) == len(settings.workflow().transitions) == 25


def test_due_soon_and_overdue_filters(office):
    with freeze_time("2026-12-01 03:00:00"):  # Tuesday 10:00 WIB
        r = submit()
    with freeze_time("2026-12-08 03:00:00"):  # next Tuesday: due at 16:00 today
        soon = act("sekretaris", "statrequest_list", sla="due_soon")
        assert [x["id"] for x in soon["results"]] == [r["id"]]
        assert soon["results"][0]["sla"]["status"] == "due_soon"
    with freeze_time("2026-12-09 03:00:00"):
        late = act("sekretaris", "statrequest_list", sla="overdue")
        assert [x["id"] for x in late["results"]] == [r["id"]]
        assert act("sekretaris", "statrequest_list", sla="on_time")["count"] == 0
    assert dt.date(2026, 12, 8).weekday() == 1
