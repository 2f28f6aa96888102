"""Races against real PostgreSQL: one winner per step, gap-free tracking numbers."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import ckan.model as model
import ckantoolkit as tk
import pytest
from sqlalchemy import func, select
from support import act, request_data, submit

from ckanext.statrequest.core.numbering import parse_tracking_number
from ckanext.statrequest.model import Event, Request

pytestmark = pytest.mark.usefixtures("with_plugins")


def _in_thread(fn, *args, **kwargs):
    """Run with the thread's own database session, as a web worker would."""
    try:
        return fn(*args, **kwargs)
    finally:
        model.Session.remove()


def test_two_officials_fire_at_once_exactly_one_wins(office):
    rid = submit()["id"]
    barrier = threading.Barrier(2)

    def attempt(transition: str, **inputs):
        barrier.wait()
        try:
            act("sekretaris", "statrequest_transition", id=rid, transition=transition,
                version=1, **inputs)
            return "ok"
        except tk.ValidationError as exc:
            return exc.error_dict

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda args: _in_thread(attempt, *args[:1], **args[1]), [
            ("teruskan_ke_kadis", {}),
            ("minta_perbaikan", {"note": "Kurang lengkap."}),
        ]))
    assert results.count("ok") == 1
    (lost,) = [r for r in results if r != "ok"]
    assert "version" in lost or "transition" in lost
    model.Session.remove()
    count = model.Session.scalar(select(func.count()).select_from(Event).where(
        Event.request_id == rid, Event.transition != "ajukan"))
    assert count == 1
    assert model.Session.get(Request, rid).version == 2


def test_same_transition_twice_at_once_is_applied_once(office):
    rid = submit()["id"]
    barrier = threading.Barrier(2)

    def attempt():
        barrier.wait()
        try:
            act("sekretaris", "statrequest_transition", id=rid, transition="teruskan_ke_kadis",
                version=1)
            return "ok"
        except tk.ValidationError as exc:
            return str(exc.error_dict)

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(_in_thread, attempt) for _ in range(2)]
        results = [f.result() for f in futures]
    assert results.count("ok") == 1
    assert "already handled" in [r for r in results if r != "ok"][0]
    model.Session.remove()
    assert model.Session.scalar(select(func.count()).select_from(Event).where(
        Event.request_id == rid, Event.transition == "teruskan_ke_kadis")) == 1


@pytest.mark.ckan_config("ckanext.statrequest.limit.user_per_hour", "0")
@pytest.mark.ckan_config("ckanext.statrequest.limit.user_per_day", "0")
@pytest.mark.ckan_config("ckanext.statrequest.limit.ip_per_hour", "0")
@pytest.mark.ckan_config("ckanext.statrequest.limit.ip_per_day", "0")
def test_fifty_concurrent_submissions_get_distinct_gap_free_numbers(office):
    def one(i: int) -> str:
        return act("pemohon1" if i % 2 else "pemohon2", "statrequest_create",
                   **request_data(title=f"Permintaan nomor {i}"))["tracking_number"]

    with ThreadPoolExecutor(10) as pool:
        numbers = list(pool.map(lambda i: _in_thread(one, i), range(50)))
    assert len(set(numbers)) == 50
    seqs = sorted(parse_tracking_number(n).seq for n in numbers)
    assert seqs == list(range(1, 51))
