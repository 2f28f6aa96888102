"""The front desk registers requests received by letter, email or in person, for people who
may have no account; every request, portal or desk, stands in one incoming-letter register
with gap-free agenda numbers. Real PostgreSQL, real files, real SMTP and worker."""
from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import ckan.model as model
import ckantoolkit as tk
import pytest
from sqlalchemy import func, select
from support import (
    act,
    as_sysadmin,
    desk_data,
    fire,
    make_front_desk,
    pdf_bytes,
    submit,
    upload,
    walk,
    work,
)

from ckanext.statrequest import settings
from ckanext.statrequest.core.numbering import format_agenda_number
from ckanext.statrequest.model import Attachment, Event, Notification, Request

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.fixture
def desk(office):
    make_front_desk()
    return office


def _counts() -> tuple[int, int, int, int]:
    model.Session.remove()
    return tuple(model.Session.scalar(select(func.count()).select_from(t))  # type: ignore[return-value]
                 for t in (Request, Event, Attachment, Notification))


def _year() -> int:
    return settings.calendar().localize(dt.datetime.now(dt.timezone.utc)).year


def test_letter_registered_at_the_desk_runs_to_the_signed_reply(desk, test_pki):
    registered = act("loket", "statrequest_register", **desk_data())
    assert registered["state"] == settings.workflow().initial
    assert registered["requester_id"] is None and registered["channel"] == "surat"
    assert registered["agenda_number"] == format_agenda_number(_year(), 1)
    assert registered["sender_letter_number"] == "005/UNTAN/XII/2026"
    assert registered["received_by"] == "Petugas Loket"
    assert registered["guest_link"]
    # the timeline says the desk registered it; the requester follows it by the guest link
    token = registered["guest_link"].rsplit("/", 1)[1]
    events = act(None, "statrequest_event_list", id=registered["id"], token=token)
    assert events[0]["transition"] == "daftar_loket"
    assert events[0]["label"] == "Registered at the front desk"
    walk(desk, registered["id"], "tandatangani")
    shown = act(None, "statrequest_show", id=registered["id"], token=token)
    assert shown["state"] == "selesai"
    assert any(a["kind"] == "signed_reply" for a in shown["attachments"])


def test_the_requester_gets_the_received_mail_with_the_guest_link(desk, mailbox, queue,
                                                                   with_test_worker):
    registered = act("loket", "statrequest_register", **desk_data())
    work(queue)
    (mail,) = [m for m in mailbox.take() if m["To"].addresses[0].addr_spec == "warga@example.test"]
    body = mail.get_body(("plain",)).get_content()
    assert registered["tracking_number"] in body
    assert "/permintaan-data/tamu/" in body


def test_phone_only_requester_is_registered_without_mail(desk):
    registered = act("loket", "statrequest_register", **desk_data(email="", phone="0812 555 0101",
                                                                  channel="langsung"))
    assert registered["email"] == "" and registered["phone"] == "0812 555 0101"
    # a visit carries no sender's letter
    assert registered["sender_letter_number"] is None
    assert model.Session.scalar(select(func.count()).select_from(Notification).where(
        Notification.request_id == registered["id"], Notification.kind == "received")) == 0


def test_sla_counts_from_the_day_received(desk):
    calendar = settings.calendar()
    today = calendar.localize(dt.datetime.now(dt.timezone.utc)).date()
    earlier = today - dt.timedelta(days=7)
    registered = act("loket", "statrequest_register",
                     **desk_data(received_on=earlier.isoformat(),
                                 sender_letter_date=earlier.isoformat()))
    request = model.Session.get(Request, registered["id"])
    assert calendar.localize(request.received_at).date() == earlier
    assert request.sla_due_at == calendar.due_date(request.received_at, settings.sla_days(), [])


@pytest.mark.parametrize("who", ["sekretaris", "pemohon1", None, "sysadmin"])
def test_only_the_front_desk_registers(desk, who):
    before = _counts()
    user = desk.sysadmin if who == "sysadmin" else who
    with pytest.raises(tk.NotAuthorized):
        act(user, "statrequest_register", **desk_data())
    assert _counts() == before


def _tomorrow() -> str:
    return (dt.date.today() + dt.timedelta(days=2)).isoformat()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"identity_document": None}, "identity_document"),
    ({"request_letter": None}, "request_letter"),
    ({"email": "", "phone": ""}, "email"),
    ({"received_on": _tomorrow()}, "received_on"),
    ({"received_on": (dt.date.today() - dt.timedelta(days=400)).isoformat()}, "received_on"),
    ({"received_on": ""}, "received_on"),
    ({"channel": "portal"}, "channel"),
    ({"channel": "merpati"}, "channel"),
    ({"request_letter": upload("surat.pdf", b"MZ\x90\x00 not a pdf")}, "request_letter"),
    ({"identity_document": upload("ktp.exe", b"MZ\x90\x00\x03")}, "identity_document"),
    ({"sender_letter_date": _tomorrow()}, "sender_letter_date"),
    ({"title": "x" * 5000}, "title"),
])
def test_bad_registrations_are_refused_and_write_nothing(desk, overrides, field):
    data = desk_data(**overrides)
    data = {k: v for k, v in data.items() if v is not None}
    before = _counts()
    with pytest.raises(tk.ValidationError) as exc:
        act("loket", "statrequest_register", **data)
    assert field in exc.value.error_dict
    assert _counts() == before


def test_no_front_desk_in_the_workflow_is_refused_clearly(desk, monkeypatch):
    import dataclasses

    wf = settings.workflow()
    monkeypatch.setattr(settings, "workflow", lambda: dataclasses.replace(
        wf, front_desk_position=None))
    before = _counts()
    with pytest.raises(tk.NotAuthorized, match="no front desk"):
        act("loket", "statrequest_register", **desk_data())
    assert _counts() == before


def test_register_lists_portal_and_desk_requests_in_agenda_order(desk):
    year = _year()
    portal = submit()
    letter = act("loket", "statrequest_register", **desk_data())
    email = act("loket", "statrequest_register", **desk_data(channel="email"))
    assert portal["agenda_number"] == format_agenda_number(year, 1)
    book = act("sekretaris", "statrequest_register_list")
    assert book["count"] == 3
    assert [(r["agenda_number"], r["channel"]) for r in book["results"]] == [
        (format_agenda_number(year, 1), "portal"), (format_agenda_number(year, 2), "surat"),
        (format_agenda_number(year, 3), "email")]
    assert book["results"][1]["tracking_number"] == letter["tracking_number"]
    assert book["results"][1]["received_by"] == "Petugas Loket"
    # filters: channel, state, dates
    assert [r["id"] for r in act("kasi", "statrequest_register_list", channel="email")["results"]] \
        == [email["id"]]
    fire("sekretaris", portal["id"], "teruskan_ke_kadis")
    moved = act("loket", "statrequest_register_list", state="disposisi_kadis")
    assert [r["id"] for r in moved["results"]] == [portal["id"]]
    today = dt.date.today()
    assert act("loket", "statrequest_register_list", received_from=(
        today + dt.timedelta(days=3)).isoformat())["count"] == 0
    export = act("sekretaris", "statrequest_register_export", channel="surat")
    assert export["columns"][0] == "agenda_number"
    assert [row[0] for row in export["rows"]] == [letter["agenda_number"]]


@pytest.mark.parametrize("who", ["pemohon1", "admin-kesehatan", None])
def test_register_is_for_officials_only(desk, who):
    submit()
    with pytest.raises(tk.NotAuthorized):
        act(who, "statrequest_register_list")
    with pytest.raises(tk.NotAuthorized):
        act(who, "statrequest_register_export")


def _in_thread(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    finally:
        model.Session.remove()


def test_twenty_concurrent_registrations_get_twenty_consecutive_numbers(desk):
    year = _year()
    submit()  # agenda 1, from the portal
    barrier = threading.Barrier(20)
    files = {"request_letter": pdf_bytes()}

    def register(i: int) -> str:
        barrier.wait()
        data = desk_data(title=f"Permintaan loket {i}",
                         request_letter=upload("surat.pdf", files["request_letter"]))
        return act("loket", "statrequest_register", **data)["agenda_number"]

    with ThreadPoolExecutor(20) as pool:
        numbers = list(pool.map(lambda i: _in_thread(register, i), range(20)))
    assert sorted(numbers) == [format_agenda_number(year, n) for n in range(2, 22)]
    # a portal submission takes the next number of the same book
    assert submit()["agenda_number"] == format_agenda_number(year, 22)


def test_a_failed_registration_gives_its_number_back(desk):
    year = _year()
    act("loket", "statrequest_register", **desk_data())
    with pytest.raises(tk.ValidationError):
        act("loket", "statrequest_register", **desk_data(channel="merpati"))
    # a failure after the numbers were taken (a dataset that cannot be linked) rolls back too
    assert act("loket", "statrequest_register", **desk_data())["agenda_number"] == \
        format_agenda_number(year, 2)


def test_sysadmin_holding_no_position_sees_the_register(desk):
    submit()
    assert as_sysadmin("statrequest_register_list")["count"] == 1


def test_demo_data_has_a_front_desk_officer_and_desk_requests(clean_db, test_pki):
    from ckanext.statrequest.lib import demo

    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    logins = demo.load(site_user)
    assert ("loket", settings.workflow().front_desk_position) in logins
    demo.load(site_user)  # idempotent: registered once
    book = act("loket", "statrequest_register_list")
    assert sorted(r["channel"] for r in book["results"]) == ["langsung", "surat"]
    assert all(r["received_by"] == "Rina Marlina, A.Md." for r in book["results"])
