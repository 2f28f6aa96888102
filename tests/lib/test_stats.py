"""Statistics from a small history with fixed times, every figure computed by hand.

Office hours 08:00–16:00 WIB (one working day = 8 hours); Tuesday 17 February 2026 is a
national holiday (Lunar New Year). Times below are WIB.

R1 PDS-2026-00001 public, Dinkes   Mon 2 Feb 09:00 → selesai Fri 6 Feb 15:00
   7+8+8+8+7 = 38 h = 4.75 d; due Mon 9 Feb 16:00: on time
R2 PDS-2026-00002 agency, Dinkes + Dinas Pendidikan, paused, over the holiday
   Fri 13 Feb 15:00 → selesai Thu 26 Feb 10:00: 59 h minus 11 h paused = 48 h = 6.0 d;
   due (5 working days, + the pause) Wed 25 Feb 11:00: late
R3 PDS-2026-00003 business, refused: received Mon 9 Feb 07:00 (counts from 08:00)
   → selesai Tue 10 Feb 12:00: 8+4 = 12 h = 1.5 d, on time
R4 PDS-2026-00004 public: withdrawn while waiting for the requester
R5 PDS-2026-00005 public, Dinas Pertanian: still waiting for the OPD
R6 PDS-2026-00006 agency, March: Mon 2 Mar 09:00 → Wed 4 Mar 09:00: 7+8+1 = 16 h = 2.0 d
R7 PDS-2025-00001 public, December 2025: withdrawn
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from zoneinfo import ZoneInfo

import ckan.model as model
import ckantoolkit as tk
import pytest
from openpyxl import load_workbook
from support import act

from ckanext.statrequest import settings
from ckanext.statrequest.lib import stats
from ckanext.statrequest.model import Event, Request, RequestOrganization

pytestmark = pytest.mark.usefixtures("with_plugins")

WIB = ZoneInfo("Asia/Jakarta")
NIK = "6104012345678901"


def at(month: int, day: int, hour: int, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=WIB)


# (transition, to_state, time, routed OPD slugs)
FULL_PATH_R1 = [
    ("ajukan", "diajukan", at(2, 2, 9), ()),
    ("teruskan_ke_kadis", "disposisi_kadis", at(2, 2, 13), ()),  # diajukan 4 h
    ("disposisi_ke_kabid", "telaah_kabid", at(2, 3, 8), ()),  # 3 h
    ("disposisi_ke_kasi", "disposisi_kasi", at(2, 3, 12), ()),  # 4 h
    ("tugaskan_staf", "tindak_lanjut_staf", at(2, 3, 16), ()),  # 4 h
    ("teruskan_ke_opd", "menunggu_opd", at(2, 4, 10), ("dinas-kesehatan",)),  # 2 h
    ("unggah_hasil", "pemeriksaan_staf", at(2, 5, 10), ()),  # 6 + 2 = 8 h
    ("hasil_sesuai", "pemeriksaan_kasi", at(2, 5, 14), ()),  # 4 h
    ("teruskan_ke_kabid", "paraf_kabid", at(2, 6, 8), ()),  # 2 h
    ("paraf_kabid", "paraf_sekretaris", at(2, 6, 10), ()),  # 2 h
    ("paraf_sekretaris", "ttd_kadis", at(2, 6, 12), ()),  # 2 h
    ("tandatangani", "selesai", at(2, 6, 15), ()),  # 3 h
]
PAUSED_R2 = [
    ("ajukan", "diajukan", at(2, 13, 15), ()),
    ("minta_perbaikan", "perlu_perbaikan", at(2, 16, 9), ()),  # diajukan 1 + 1 = 2 h
    ("kirim_ulang", "diajukan", at(2, 18, 12), ()),  # paused 7 + 0 (holiday) + 4 = 11 h
    ("teruskan_ke_kadis", "disposisi_kadis", at(2, 18, 14), ()),  # diajukan 2 h
    ("disposisi_ke_kabid", "telaah_kabid", at(2, 19, 9), ()),  # 2 + 1 = 3 h
    ("disposisi_ke_kasi", "disposisi_kasi", at(2, 19, 11), ()),  # 2 h
    ("tugaskan_staf", "tindak_lanjut_staf", at(2, 19, 13), ()),  # 2 h
    ("teruskan_ke_opd", "menunggu_opd", at(2, 19, 15),
     ("dinas-kesehatan", "dinas-pendidikan")),  # 2 h
    ("unggah_hasil", "pemeriksaan_staf", at(2, 24, 11), ()),  # 1 + 8 + 8 + 3 = 20 h
    ("hasil_sesuai", "pemeriksaan_kasi", at(2, 24, 15), ()),  # 4 h
    ("teruskan_ke_kabid", "paraf_kabid", at(2, 25, 9), ()),  # 1 + 1 = 2 h
    ("paraf_kabid", "paraf_sekretaris", at(2, 25, 11), ()),  # 2 h
    ("paraf_sekretaris", "ttd_kadis", at(2, 25, 13), ()),  # 2 h
    ("tandatangani", "selesai", at(2, 26, 10), ()),  # 3 + 2 = 5 h
]
REFUSED_R3 = [
    ("ajukan", "diajukan", at(2, 9, 7), ()),
    ("tolak", "paraf_kabid", at(2, 9, 10), ()),  # 2 h (from 08:00)
    ("paraf_kabid", "paraf_sekretaris", at(2, 9, 14), ()),  # 4 h
    ("paraf_sekretaris", "ttd_kadis", at(2, 10, 9), ()),  # 2 + 1 = 3 h
    ("tandatangani", "selesai", at(2, 10, 12), ()),  # 3 h
]
WITHDRAWN_R4 = [
    ("ajukan", "diajukan", at(2, 10, 10), ()),
    ("minta_perbaikan", "perlu_perbaikan", at(2, 10, 14), ()),  # 4 h
    ("batalkan", "dibatalkan", at(2, 12, 10), ()),  # 2 + 8 + 2 = 12 h
]
OPEN_R5 = [
    ("ajukan", "diajukan", at(2, 23, 8), ()),
    ("teruskan_ke_kadis", "disposisi_kadis", at(2, 23, 12), ()),  # 4 h
    ("disposisi_ke_kabid", "telaah_kabid", at(2, 23, 16), ()),  # disposisi_kadis 4 h
    ("disposisi_ke_kasi", "disposisi_kasi", at(2, 24, 8), ()),  # telaah_kabid 0 h (overnight)
    ("tugaskan_staf", "tindak_lanjut_staf", at(2, 24, 10), ()),  # 2 h
    ("teruskan_ke_opd", "menunggu_opd", at(2, 24, 12), ("dinas-pertanian",)),  # 2 h
]
MARCH_R6 = [
    ("ajukan", "diajukan", at(3, 2, 9), ()),
    ("tolak", "paraf_kabid", at(3, 2, 11), ()),  # 2 h
    ("paraf_kabid", "paraf_sekretaris", at(3, 3, 9), ()),  # 5 + 1 = 6 h
    ("paraf_sekretaris", "ttd_kadis", at(3, 3, 11), ()),  # 2 h
    ("tandatangani", "selesai", at(3, 4, 9), ()),  # 5 + 1 = 6 h
]
OLD_R7 = [
    ("ajukan", "diajukan", at(12, 10, 10, year=2025), ()),
    ("batalkan", "dibatalkan", at(12, 10, 11, year=2025), ()),
]

SEED = [  # number, category, requester, path
    ("PDS-2026-00001", "masyarakat_umum", "pemohon1", FULL_PATH_R1),
    ("PDS-2026-00002", "instansi_pemerintah", "pemohon2", PAUSED_R2),
    ("PDS-2026-00003", "dunia_usaha", "pemohon1", REFUSED_R3),
    ("PDS-2026-00004", "masyarakat_umum", "pemohon2", WITHDRAWN_R4),
    ("PDS-2026-00005", "masyarakat_umum", "pemohon1", OPEN_R5),
    ("PDS-2026-00006", "instansi_pemerintah", "pemohon2", MARCH_R6),
    ("PDS-2025-00001", "masyarakat_umum", "pemohon1", OLD_R7),
]

# SKM answers (u1..u9) of the finished requests: element averages 3, 3.33, 3, 4, 3.33, 3.33,
# 3.67, 3, 3; their mean 89/27 = 3.2963; IKM = 89/27 × 25 = 82.41, grade B.
SURVEYS = [
    ("PDS-2026-00001", "pemohon1", [4, 4, 4, 4, 4, 4, 4, 4, 4], "Cepat dan ramah."),
    ("PDS-2026-00002", "pemohon2", [3, 3, 2, 4, 3, 3, 4, 2, 3], ""),
    ("PDS-2026-00003", "pemohon1", [2, 3, 3, 4, 3, 3, 3, 3, 2], "Alasan penolakan kurang jelas."),
]


def seed(office) -> dict[str, str]:
    """Insert the requests and their events exactly as the workflow would have written them."""
    ids = {}
    for number, category, requester, path in SEED:
        received = path[0][2]
        last = path[-1]
        request = Request(
            tracking_number=number, requester_id=model.User.get(requester).id,
            requester_name=f"Pemohon {number}", identity_type="nik", identity_number=NIK,
            institution="Lembaga Uji", category=category, email=f"{requester}@example.test",
            phone="0812-3456-7890", address="Jl. Merdeka 1, Ketapang",
            title=f"Data uji {number}", description="Uji statistik.", purpose="Penelitian",
            state=last[1], outcome="dipenuhi" if last[1] == "selesai" else None,
            received_at=received, created_at=received, updated_at=last[2], version=len(path),
            sla_pauses=[], closed_at=last[2] if last[1] in ("selesai", "dibatalkan") else None,
        )
        model.Session.add(request)
        model.Session.flush()
        previous = None
        for version, (transition, to_state, when, opd) in enumerate(path, 1):
            data = {"opd": [office.opd[slug]["id"] for slug in opd]} if opd else {}
            for org_id in data.get("opd", []):
                model.Session.add(RequestOrganization(request_id=request.id, organization_id=org_id,
                                                      routed=True, routed_at=when))
            model.Session.add(Event(
                request_id=request.id, actor_role="pemohon", transition=transition,
                from_state=previous, to_state=to_state, visibility="public", data=data,
                version=version, created_at=when))
            previous = to_state
        ids[number] = request.id
    model.Session.commit()
    for number, user, scores, comment in SURVEYS:
        act(user, "statrequest_survey_submit", id=number, comment=comment,
            **{f"u{i}": s for i, s in enumerate(scores, 1)})
    return ids


FEBRUARY = {"date_from": "2026-02-01", "date_to": "2026-02-28"}


# --- the figures --------------------------------------------------------------------------

def test_counts_of_february(office):
    seed(office)
    r = act("sekretaris", "statrequest_stats", **FEBRUARY)
    assert r["period"] == {"from": "2026-02-01", "to": "2026-02-28"}
    assert (r["total"], r["finished"], r["withdrawn"], r["open"]) == (5, 3, 1, 1)
    assert r["by_state"] == [{"state": "menunggu_opd", "count": 1},
                             {"state": "selesai", "count": 3},
                             {"state": "dibatalkan", "count": 1}]
    assert {row["category"]: row["count"] for row in r["by_category"]} == {
        "masyarakat_umum": 3, "instansi_pemerintah": 1, "dunia_usaha": 1}
    titles = {row["title"]: row["count"] for row in r["by_opd"]}
    assert titles == {"Dinas Kesehatan": 2, "Dinas Pendidikan": 1, "Dinas Pertanian": 1}
    assert r["by_opd"][0]["title"] == "Dinas Kesehatan"
    assert r["by_month"] == [{"month": "2026-02", "received": 5, "finished": 3}]


def test_completion_time_and_sla_compliance(office):
    seed(office)
    r = act("sekretaris", "statrequest_stats", **FEBRUARY)
    # completion days 1.5, 4.75, 6.0
    assert r["completion"] == {"count": 3, "median": 4.75, "p90": 5.75, "mean": 4.08}
    # R1 and R3 on time, R2 late (due Wed 25 Feb 11:00, finished Thu 26 Feb 10:00)
    assert r["compliance"] == {"finished": 3, "on_time": 2, "late": 1, "percent": 66.7}


def test_pause_and_holiday_are_not_counted(office):
    ids = seed(office)
    calendar = settings.calendar()
    rules = stats.rules_for(settings.workflow(), settings.sla_days())
    (r2,) = [h for h in stats.load(Request.id == ids["PDS-2026-00002"])]
    assert stats.pauses(r2, rules) == [(at(2, 16, 9), at(2, 18, 12))]
    assert stats.completion_days(r2, calendar, rules) == 6.0
    assert calendar.due_date(r2.received_at, 5, stats.pauses(r2, rules)) == at(2, 25, 11)
    assert stats.on_time(r2, calendar, rules) is False


def test_time_per_step(office):
    seed(office)
    steps = {row["state"]: row for row in act("sekretaris", "statrequest_stats", **FEBRUARY)["steps"]}
    expected = {  # state: (requests, median, p90) in working days
        "menunggu_opd": (2, 1.75, 2.35),  # 1.0 and 2.5; R5 is still there: not counted
        "perlu_perbaikan": (2, 1.44, 1.49),  # 1.375 and 1.5
        "diajukan": (5, 0.5, 0.5),  # R2 twice: 0.25 + 0.25
        "pemeriksaan_staf": (2, 0.5, 0.5),
        "disposisi_kadis": (3, 0.375, 0.475),  # 0.375, 0.375, 0.5
        "ttd_kadis": (3, 0.375, 0.575),  # 0.375, 0.375, 0.625
        "telaah_kabid": (3, 0.25, 0.45),  # 0, 0.25, 0.5
        "disposisi_kasi": (3, 0.25, 0.45),  # 0.25, 0.25, 0.5
        "tindak_lanjut_staf": (3, 0.25, 0.25),
        "pemeriksaan_kasi": (2, 0.25, 0.25),
        "paraf_kabid": (3, 0.25, 0.45),  # 0.25, 0.25, 0.5
        "paraf_sekretaris": (3, 0.25, 0.35),  # 0.25, 0.25, 0.375
    }
    assert set(steps) == set(expected)
    for state, (n, median, p90) in expected.items():
        row = steps[state]
        assert (row["requests"], row["median"], row["p90"]) == (
            n, pytest.approx(median, abs=0.006), pytest.approx(p90, abs=0.006)), state
    order = [row["state"] for row in act("sekretaris", "statrequest_stats", **FEBRUARY)["steps"]]
    assert order[:2] == ["menunggu_opd", "perlu_perbaikan"]  # where requests wait longest
    assert order[2:6] == ["diajukan", "pemeriksaan_staf", "disposisi_kadis", "ttd_kadis"]


def test_ikm_per_element_and_overall(office):
    seed(office)
    ikm = act("sekretaris", "statrequest_stats", **FEBRUARY)["ikm"]
    assert ikm["respondents"] == 3
    assert ikm["ikm"] == 82.41 and ikm["grade"] == "B"
    assert ikm["average"] == 3.296
    by_element = {e["element"]: (e["average"], e["ikm"], e["grade"]) for e in ikm["elements"]}
    assert by_element == {
        "u1": (3.0, 75.0, "C"), "u2": (3.33, 83.33, "B"), "u3": (3.0, 75.0, "C"),
        "u4": (4.0, 100.0, "A"), "u5": (3.33, 83.33, "B"), "u6": (3.33, 83.33, "B"),
        "u7": (3.67, 91.67, "A"), "u8": (3.0, 75.0, "C"), "u9": (3.0, 75.0, "C"),
    }
    comments = act("sekretaris", "statrequest_stats", **FEBRUARY)["comments"]
    assert {c["tracking_number"]: c["comment"] for c in comments} == {
        "PDS-2026-00003": "Alasan penolakan kurang jelas.", "PDS-2026-00001": "Cepat dan ramah."}


@pytest.mark.parametrize("value,grade", [
    (100, "A"), (88.31, "A"), (88.30, "B"), (76.61, "B"), (76.60, "C"), (65.0, "C"),
    (64.99, "D"), (25.0, "D")])
def test_permenpan_grade_boundaries(value, grade):
    assert stats.grade(value) == grade


def test_percentile_rule():
    assert stats.percentile([], 50) is None
    assert stats.percentile([7.0], 90) == 7.0
    assert stats.percentile([1.5, 4.75, 6.0], 50) == 4.75
    assert stats.percentile([1.5, 2.0, 4.75, 6.0], 50) == 3.375
    assert stats.percentile([1.5, 2.0, 4.75, 6.0], 90) == pytest.approx(5.625)


def test_year_and_all_time(office):
    seed(office)
    year = act("sekretaris", "statrequest_stats", year=2026)
    assert year["total"] == 6 and year["finished"] == 4
    assert year["completion"]["median"] == pytest.approx(3.375, abs=0.006)  # 1.5 2 4.75 6
    assert year["completion"]["p90"] == pytest.approx(5.625, abs=0.006)
    assert year["compliance"]["percent"] == 75.0
    assert year["by_month"] == [{"month": "2026-02", "received": 5, "finished": 3},
                                {"month": "2026-03", "received": 1, "finished": 1}]
    everything = act("sekretaris", "statrequest_stats")
    assert (everything["total"], everything["withdrawn"]) == (7, 2)
    assert everything["by_month"][0] == {"month": "2025-12", "received": 1, "finished": 0}
    old = act("sekretaris", "statrequest_stats", year=2025)
    assert old["total"] == 1 and old["ikm"] is None and old["compliance"]["percent"] is None


def test_figures_are_reproducible_from_the_log(office):
    """The request rows' own state and dates do not matter: only the events do."""
    ids = seed(office)
    before = act("sekretaris", "statrequest_stats", **FEBRUARY)
    for rid in ids.values():
        request = model.Session.get(Request, rid)
        request.state, request.closed_at = "diajukan", None
    model.Session.commit()
    assert act("sekretaris", "statrequest_stats", **FEBRUARY) == before


@pytest.mark.parametrize("data,field", [
    ({"year": "20x6"}, "year"), ({"year": 1999}, "year"), ({"date_from": "kemarin"}, "date_from"),
    ({"date_from": "2026-03-01", "date_to": "2026-02-01"}, "date_to")])
def test_bad_period_is_refused(office, data, field):
    with pytest.raises(tk.ValidationError) as err:
        act("sekretaris", "statrequest_stats", **data)
    assert field in err.value.error_dict


# --- who may see what ---------------------------------------------------------------------

@pytest.mark.parametrize("user,allowed", [
    ("pemohon1", False), ("other", False), (None, False), ("sekretaris", True), ("staf1", True),
    ("admin-kesehatan", False), ("sysadmin", True)])
def test_who_sees_the_statistics(office, user, allowed):
    user = office.sysadmin if user == "sysadmin" else user
    if allowed:
        assert act(user, "statrequest_stats")["total"] == 0
    else:
        with pytest.raises(tk.NotAuthorized):
            act(user, "statrequest_stats")
    # the transparency figures are for everyone, and hold aggregates only
    public = act(user, "statrequest_stats_public")
    assert not {"by_opd", "steps", "comments", "by_state"} & set(public)


@pytest.mark.ckan_config("ckanext.statrequest.ikm_min_respondents", "3")
def test_public_figures(office):
    seed(office)
    public = act(None, "statrequest_stats_public", **FEBRUARY)
    assert (public["total"], public["finished"]) == (5, 3)
    assert public["compliance"]["percent"] == 66.7
    assert public["completion"]["median"] == 4.75
    assert public["ikm"]["ikm"] == 82.41 and public["ikm"]["published"]
    assert "PDS-" not in repr(public)


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_ikm_of_too_few_answers_is_not_published(office, app, prefix):
    """Three answers are below the default minimum of 30: the public sees how many answers
    there are, not an index; officials see the index with the same note."""
    seed(office)
    public = act(None, "statrequest_stats_public", **FEBRUARY)
    assert public["ikm"] is None
    assert public["ikm_pending"] == {"respondents": 3, "minimum": 30}
    internal = act("sekretaris", "statrequest_stats", **FEBRUARY)["ikm"]
    assert internal["ikm"] == 82.41 and internal["published"] is False
    body = app.get(prefix + "/permintaan-data/transparansi", query_string=FEBRUARY).body
    assert "82,41" not in body and "82.41" not in body
    assert 'id="ikm-pending"' in body and "30" in body
    assert 'id="chart-ikm"' not in body


# --- exports ------------------------------------------------------------------------------

def _csv(result: dict) -> list[dict[str, str]]:
    body = stats.to_csv(result["columns"], result["rows"]).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def _xlsx(result: dict) -> list[dict]:
    sheet = load_workbook(io.BytesIO(stats.to_xlsx(result["columns"], result["rows"], "x"))).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def export_log():
    handler = _Capture()
    logger = logging.getLogger("ckanext.statrequest.logic.action.stats")
    # the migrations' alembic fileConfig() disables loggers that existed before it ran
    old = logger.level, logger.disabled
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.disabled = False
    yield handler.messages
    logger.removeHandler(handler)
    logger.level, logger.disabled = old


def test_export_without_personal_data(office, export_log):
    seed(office)
    result = act("sekretaris", "statrequest_stats_export", **FEBRUARY)
    assert result["filename"] == \
        "permintaan-data_2026-02-01_2026-02-28_tanpa-data-pribadi.csv"
    for rows in (_csv(result), _xlsx(result)):
        assert [r["tracking_number"] for r in rows] == [f"PDS-2026-0000{i}" for i in (1, 3, 4, 2, 5)]
        r2 = next(r for r in rows if r["tracking_number"] == "PDS-2026-00002")
        assert r2["routed_opd"] == "Dinas Kesehatan; Dinas Pendidikan"
        assert r2["state"] == "selesai" and r2["category"] == "instansi_pemerintah"
        assert str(r2["finished_at"]).startswith("2026-02-26T10:00:00+07:00")
        assert float(r2["working_days"]) == 6.0
        assert str(r2["on_time"]) in ("False", "false")
        for personal in ("requester_name", "identity_number", "email", "phone", "address"):
            assert personal not in r2
        assert NIK not in repr(rows) and "example.test" not in repr(rows)
    assert any("personal data not included" in m and "sekretaris" in m for m in export_log)


def test_export_never_with_personal_data_even_for_officials(office, export_log):
    seed(office)
    with pytest.raises(tk.ValidationError) as refused:
        act("sekretaris", "statrequest_stats_export", year=2026, format="xlsx",
            include_personal=True)
    assert "include_personal" in refused.value.error_dict
    result = act("sekretaris", "statrequest_stats_export", year=2026, format="xlsx")
    assert result["filename"] == "permintaan-data_2026_tanpa-data-pribadi.xlsx"
    for rows in (_csv(result), _xlsx(result)):
        assert len(rows) == 6
        assert "identity_number" not in rows[0] and NIK not in repr(rows)
    assert not any("INCLUDED" in m for m in export_log)


def test_export_for_an_opd_admin_only_its_requests_and_no_personal_data(office):
    seed(office)
    result = act("admin-kesehatan", "statrequest_stats_export", **FEBRUARY)
    assert [r["tracking_number"] for r in _csv(result)] == ["PDS-2026-00001", "PDS-2026-00002"]
    with pytest.raises(tk.ValidationError):
        act("admin-kesehatan", "statrequest_stats_export", include_personal=True)


@pytest.mark.parametrize("user", ["kabid", "sysadmin"])
def test_export_for_position_holders_and_sysadmins(office, user):
    seed(office)
    user = office.sysadmin if user == "sysadmin" else user
    result = act(user, "statrequest_stats_export")
    assert len(result["rows"]) == 7 and "identity_number" not in result["columns"]


@pytest.mark.parametrize("user", ["pemohon1", "other", None])
def test_export_refused_to_requesters_and_anonymous(office, user):
    with pytest.raises(tk.NotAuthorized):
        act(user, "statrequest_stats_export")


def test_export_cells_never_become_formulas(office):
    ids = seed(office)
    request = model.Session.get(Request, ids["PDS-2026-00001"])
    request.title = "=HYPERLINK(\"http://evil.test\")"
    model.Session.commit()
    result = act("sekretaris", "statrequest_stats_export", **FEBRUARY)
    assert _csv(result)[0]["title"].startswith("'=")
    cell = load_workbook(io.BytesIO(stats.to_xlsx(result["columns"], result["rows"], "x"))
                         ).active["D2"]
    assert cell.data_type == "s" and cell.value == request.title


# --- pages --------------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", ["", "/en"])
def test_statistics_page_with_svg_charts(office, app, prefix):
    seed(office)
    pertanian = model.Group.get("dinas-pertanian")
    pertanian.title = "Dinas <script>alert(1)</script> Pertanian"
    model.Session.commit()
    app.set_session_user("sekretaris")
    res = app.get(prefix + "/permintaan-data/statistik", query_string=FEBRUARY)
    assert res.status_code == 200
    body = res.body
    for chart in ("chart-state", "chart-month", "chart-category", "chart-opd", "chart-steps",
                  "chart-ikm"):
        # a labelled figure whose rows are table rows with a drawn bar: readable text, and a
        # table for screen readers
        assert f'<figure class="statrequest-chart mb-4" id="{chart}">' in body
        assert f'aria-labelledby="{chart}-title"' in body
    assert "<rect" in body and "<script>alert(1)" not in body
    assert '<th scope="row" class="fw-normal">Dinas &lt;script&gt;' in body
    assert "&lt;script&gt;alert(1)" in body
    assert 'id="stat-total">5<' in body
    assert ("66,7%" if not prefix else "66.7%") in body
    assert ("82,41" if not prefix else "82.41") in body
    assert 'name="include_personal"' not in body  # exports never carry personal data


@pytest.mark.parametrize("user", ["pemohon1", "admin-kesehatan", None])
def test_statistics_page_refused(office, app, user):
    if user:
        app.set_session_user(user)
    assert app.get("/permintaan-data/statistik").status_code == 403


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_transparency_page_is_public_and_aggregate(office, app, prefix):
    seed(office)
    res = app.get(prefix + "/permintaan-data/transparansi", query_string=FEBRUARY)
    assert res.status_code == 200
    assert "<svg" in res.body and 'id="stat-total">5<' in res.body
    assert "PDS-2026" not in res.body and "Dinas Kesehatan" not in res.body
    assert "Cepat dan ramah" not in res.body  # survey comments stay internal


def test_export_downloads(office, app):
    seed(office)
    app.set_session_user("sekretaris")
    res = app.get("/permintaan-data/statistik/ekspor.csv", query_string={"year": "2026"})
    assert res.status_code == 200
    assert 'filename="permintaan-data_2026_tanpa-data-pribadi.csv"' in res.headers[
        "Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(res.data.decode("utf-8-sig"))))
    assert len(rows) == 6 and "identity_number" not in rows[0]
    assert app.get("/permintaan-data/statistik/ekspor.xlsx", query_string={
        "year": "2026", "include_personal": "1"}, status=None).status_code == 400
    res = app.get("/permintaan-data/statistik/ekspor.xlsx", query_string={"year": "2026"})
    assert res.status_code == 200
    assert "tanpa-data-pribadi.xlsx" in res.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(res.data)).active
    assert NIK not in [c.value for c in sheet[2]]
    app.set_session_user("admin-kesehatan")
    assert app.get("/permintaan-data/statistik/ekspor.csv",
                   query_string={"include_personal": "1"}, status=None).status_code == 400
    app.set_session_user("pemohon1")
    assert app.get("/permintaan-data/statistik/ekspor.csv").status_code == 403


@pytest.mark.parametrize("prefix,words", [("", "Angka per "), ("/en", "Figures as of ")])
def test_both_pages_say_how_fresh_the_figures_are(office, app, prefix, words):
    seed(office)
    app.set_session_user("sekretaris")
    for page in ("/permintaan-data/statistik", "/permintaan-data/transparansi"):
        body = app.get(prefix + page, query_string=FEBRUARY).body
        line = body[body.index('id="stats-as-of"'):]
        line = line[:line.index("</p>")]
        # "Angka per 3 Des 2026 18.05" / "Figures as of 3 Dec 2026 18:05": the office's time
        assert words in line, line
        assert re.search(r"\d{1,2} \w+ 20\d\d \d\d[.:]\d\d", line), line
        assert "newer steps" not in line and "sedang" not in line  # exact: nothing pending
