"""A text search among open requests reads the open requests' own table (migration 0019, #16)
and, for an official's search by whole words, their words (migration 0020): both tables follow
every write to a request, and the search finds exactly what the same filters find on the
requests table."""
from __future__ import annotations

import os

import ckan.model as model
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from support import act, as_sysadmin, fire, submit, walk

from ckanext.statrequest import settings as statrequest_settings
from ckanext.statrequest.lib import access
from ckanext.statrequest.logic.action.request import _inbox_clause
from ckanext.statrequest.model.request import OPEN_SEARCH_DRIFT

from .test_corrections import ask_for_changes, correct

pytestmark = pytest.mark.usefixtures("with_plugins")

NIK = "6104012345678901"  # support.request_data()


def drift() -> int:
    """Rows in which the open requests' table and the open requests, or the words table and
    the open requests' words, differ, both ways."""
    model.Session.remove()
    return sum(model.Session.execute(sa.text(OPEN_SEARCH_DRIFT)).one())


def open_rows() -> int:
    return model.Session.scalar(sa.text("SELECT count(*) FROM statrequest_open_request"))


def test_the_open_requests_table_follows_every_write(office):
    first = submit(title="Data padi sawah")["id"]
    second = submit(title="Data jagung")["id"]
    assert (drift(), open_rows()) == (0, 2)
    walk(office, first, "teruskan_ke_opd")  # state changes
    assert drift() == 0
    ask_for_changes(second)  # the clock pauses: the deadline moves
    correct("pemohon1", second, title="Data kedelai", category="dunia_usaha",
            identity_number="6104019876543210")
    assert drift() == 0 and shared_is_right()
    kedelai = act("sekretaris", "statrequest_list", q="kedelai", state=[
        as_sysadmin("statrequest_show", id=second)["state"]])
    assert [r["id"] for r in kedelai["results"]] == [second]
    fire("pemohon1", second, "batalkan")  # closed: out of the table
    assert (drift(), open_rows()) == (0, 1)
    as_sysadmin("statrequest_override", id=second, state="diajukan", version=as_sysadmin(
        "statrequest_show", id=second)["version"], note="Dibuka lagi.")
    assert (drift(), open_rows()) == (0, 2)
    # a hand-run UPDATE (an operator's fix in psql) is followed too
    model.Session.execute(sa.text("UPDATE statrequest_request SET title = 'Data kopi' "
                                  "WHERE id = :id"), {"id": first})
    model.Session.commit()
    assert drift() == 0
    found = act("sekretaris", "statrequest_list", q="kopi", sla="on_time")
    assert [r["id"] for r in found["results"]] == [first]
    # an update that changes none of its columns writes nothing there
    before = model.Session.scalar(sa.text(
        "SELECT xmin::text FROM statrequest_open_request WHERE id = :id"), {"id": first})
    model.Session.execute(sa.text("UPDATE statrequest_request SET phone = '0811' WHERE id = :id"),
                          {"id": first})
    model.Session.commit()
    assert model.Session.scalar(sa.text(
        "SELECT xmin::text FROM statrequest_open_request WHERE id = :id"), {"id": first}) == before
    as_sysadmin("statrequest_purge_spam", user="pemohon1")  # deleted: gone with the request
    assert (drift(), open_rows()) == (0, 0)
    assert model.Session.scalar(sa.text("SELECT count(*) FROM statrequest_open_request_word")) == 0
    submit(title="Data kakao")
    assert {"data", "kakao"} <= words_of()
    # emptied with the requests (the bench reseeds so)
    model.Session.execute(sa.text("TRUNCATE statrequest_request CASCADE"))
    model.Session.commit()
    assert (drift(), open_rows(), words_of()) == (0, 0, set())


def words_of() -> set[str]:
    """The words table's words of every open request, title and description included."""
    model.Session.remove()
    return set(model.Session.scalars(sa.text(
        "SELECT word FROM statrequest_open_request_word")))


def shared_is_right() -> bool:
    """Each stored word's `shared`: how many characters it has in common at its beginning
    with the request's previous word in byte order (0 for the first), computed here."""
    model.Session.remove()
    rows = model.Session.execute(sa.text(
        "SELECT id, word, shared FROM statrequest_open_request_word")).all()
    by_request: dict[str, list[tuple[str, int]]] = {}
    for rid, word, shared in rows:
        by_request.setdefault(rid, []).append((word, shared))
    for words in by_request.values():
        words.sort(key=lambda ws: ws[0].encode())
        previous = ""
        for word, shared in words:
            if shared != len(os.path.commonprefix([previous, word])):
                return False
            previous = word
    return bool(rows)


def test_a_word_search_counts_a_request_once_and_finds_long_words(office):
    """Two words of one request share the prefix: one match. A word longer than the stored
    100 characters: found by its first 100 (the words table) and by more (the text index)."""
    long_word = "statistik" * 15  # 135 letters
    # two long words of one prefix too: a query over 40 characters is no identity number
    both = submit(title="Data padi dan padinya",
                  description=f"Rincian {long_word} {long_word[:50]}ku kabupaten")["id"]
    other = submit(title="Data jagung")["id"]
    assert drift() == 0 and shared_is_right()
    for q in ("padi", "pad", "padinya", "data pad", long_word[:45], long_word[:100],
              long_word[:101], long_word,
              f"rincian {long_word[:100]}"):
        found = act("sekretaris", "statrequest_list", q=q, sla="on_time")
        assert ([r["id"] for r in found["results"]], found["count"]) == ([both], 1), q
    found = act("sekretaris", "statrequest_list", q="data", sla="on_time", sort="oldest")
    assert ([r["id"] for r in found["results"]], found["count"]) == ([both, other], 2)
    # the identity number (every request here has it) also in a title: found once
    number = submit(title=f"Laporan {NIK}")["id"]
    found = act("sekretaris", "statrequest_list", q=NIK, sla="on_time", sort="oldest")
    assert ([r["id"] for r in found["results"]], found["count"]) == ([both, other, number], 3)


@pytest.fixture
def spread(office):
    """Requests of two requesters in three categories: two overdue, one due soon, three on
    time; one routed to Dinas Kesehatan, one withdrawn (closed). Their dates are set by an
    UPDATE (the triggers follow it), so the test means the same on any day."""
    made = {}
    for key, user, title, category, created, due in [
        ("sawah", "pemohon1", "Data padi sawah", "masyarakat_umum", 240, -48),
        ("ladang", "pemohon2", "Data padi ladang", "dunia_usaha", 239, -47),
        ("puskesmas", "pemohon1", "Jumlah puskesmas", "masyarakat_umum", 100, 2),
        ("organik", "pemohon1", "Data padi organik", "masyarakat_umum", 3, 700),
        ("jagung", "pemohon2", "Data jagung pipilan", "instansi_pemerintah", 2, 701),
        ("padang", "pemohon2", "Padang rumput", "dunia_usaha", 1, 702),
    ]:
        made[key] = submit(user, title=title, category=category)["id"]
        model.Session.execute(sa.text(
            "UPDATE statrequest_request SET created_at = now() - make_interval(hours => :c), "
            "sla_due_at = now() + make_interval(hours => :d) WHERE id = :id"),
            {"c": created, "d": due, "id": made[key]})
        model.Session.commit()
    walk(office, made["ladang"], "teruskan_ke_opd")
    fire("pemohon1", made["organik"], "batalkan")
    assert drift() == 0
    return made


HYPOTHESIS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=[HealthCheck.function_scoped_fixture])
USERS = ("sekretaris", "admin-kesehatan", "pemohon1", "pemohon2")
# whole ASCII words (the words table, for officials) and others (the text index)
WORDS = ("padi", "pad", "padi sawah", "puskesmas", "jagung pipil", "rumput", "tidak-ada", NIK,
         "padi_sawah", "pädi", "data data", "sawah padi d")


@given(user=st.sampled_from(USERS), q=st.sampled_from(WORDS),
       category=st.sampled_from([None, "masyarakat_umum", "dunia_usaha"]),
       sla=st.sampled_from([None, "overdue", "due_soon", "on_time"]),
       state=st.sampled_from([None, ["diajukan"], ["diajukan", "menunggu_opd"], ["dibatalkan"]]),
       sort=st.sampled_from(["newest", "oldest"]), waiting_for_me=st.booleans())
@HYPOTHESIS
def test_a_search_among_open_requests_finds_what_the_requests_table_finds(
        spread, user, q, category, sla, state, sort, waiting_for_me):
    """The same filters sorted by due (one part per state, on the requests table) and newest
    or oldest first (on the open requests' table when every state is open): the same
    requests, the same count, each in its own order; and the right ones for the obvious
    cases."""
    filters = {k: v for k, v in {"q": q, "category": category, "sla": sla, "state": state,
                                 "waiting_for_me": waiting_for_me}.items() if v}
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(model.Session.get_bind(), "before_cursor_execute", seen)
    try:
        listed = act(user, "statrequest_list", sort=sort, limit=100, **filters)
    finally:
        sa.event.remove(model.Session.get_bind(), "before_cursor_execute", seen)
    by_due = act(user, "statrequest_list", sort="due", limit=100, **filters)
    wf = statrequest_settings.workflow()
    states = set(state or wf.states) & ({s for s in wf.states if wf.sla_running(s)}
                                        if sla else set(wf.states))
    if waiting_for_me:  # the states in which this user acts
        states &= set(_inbox_clause(access.actor_for(user), wf)[1])
    open_only = bool(state or sla or waiting_for_me) and bool(states) and not any(
        wf.is_final(s) for s in states)
    assert any("statrequest_open_request" in s for s in statements) == open_only
    by_words = open_only and user == "sekretaris" and not waiting_for_me and q.isascii() \
        and "_" not in q
    assert any("statrequest_open_request_word" in s for s in statements) == by_words
    ids = [r["id"] for r in listed["results"]]
    assert sorted(ids) == sorted(r["id"] for r in by_due["results"])
    assert listed["count"] == by_due["count"] == len(ids)
    created = [r["created_at"] for r in listed["results"]]
    assert created == sorted(created, reverse=sort == "newest")
    if (user, q, category, sla, state, waiting_for_me) == (
            "sekretaris", "padi", None, "overdue", None, False):
        assert set(ids) == {spread["sawah"], spread["ladang"]}
    if user == "admin-kesehatan":  # only what was routed to the OPD
        assert set(ids) <= {spread["ladang"]}
    if user in ("pemohon1", "pemohon2") and q == NIK:  # an identity number: officials only
        assert ids == []
    if spread["organik"] in ids:
        assert not open_only


def test_a_word_search_past_the_count_cap_pages_in_date_order(office, monkeypatch):
    """Past the cap a page is a walk in date order, which the words table does not have: it
    is taken on the open requests' table, and gives the same pages."""
    from ckanext.statrequest.lib import listing

    made = [submit(title=f"Data padi {i}")["id"] for i in range(3)]
    newest_first = [r["id"] for r in act("sekretaris", "statrequest_list", q="padi",
                                         sla="on_time", sort="newest")["results"]]
    assert sorted(newest_first) == sorted(made)
    monkeypatch.setattr(listing, "COUNT_CAP", 1)
    for sort, order in (("newest", newest_first), ("oldest", newest_first[::-1])):
        for offset in range(3):
            page = act("sekretaris", "statrequest_list", q="padi", sla="on_time", sort=sort,
                       limit=1, offset=offset)
            assert [r["id"] for r in page["results"]] == [order[offset]]
            assert page["count_is_lower_bound"] is (offset < 2)
