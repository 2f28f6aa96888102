"""The access table of the product as a generated matrix: every registered statrequest action
and every page of the extension's blueprints × every kind of person × three states of a
request (submitted, at the OPD, finished).

Who may see a request: its requester, every Diskominfo position holder (and the portal's
sysadmin), and the admins of the OPD once the request was routed to it. Everyone else gets
403/404; anonymous visitors get 403 except on public actions and pages (landing, tracking,
verification, transparency, public statistics). No case may ever answer with a 5xx.

The expectation tables below are keyed by action name and by (endpoint, method): an action
or a page registered by the running application but missing from them fails
`test_every_action_is_in_the_matrix` / `test_every_page_is_in_the_matrix`, so a new one cannot
slip in without its access rule. Payloads are chosen so that no case changes what the next
one sees (stale versions, refused values, unknown ids, a spare file).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ckan.logic as logic
import ckan.plugins as plugins
import pytest

from ckanext.statrequest.core.workflow import load_default

from .conftest import EMAIL, NIK, POSITION_ROLES, ROLES, STATES, World

NO_ID = "00000000-0000-4000-8000-000000000000"
STALE = 999999  # a version nobody saw: an allowed caller is told "already handled"

EVERYONE = frozenset(ROLES)
LOGGED_IN = EVERYONE - {"anonymous"}
STAFF = POSITION_ROLES | {"sysadmin"}
ADMINS = frozenset({"kepala_dinas", "sysadmin"})  # admin of the Diskominfo organisation
SECRETARY = frozenset({"sekretaris", "sysadmin"})
SYSADMIN = frozenset({"sysadmin"})
REQUESTER = frozenset({"requester"})
PERSONAL = REQUESTER | STAFF  # NIK, identity document, phone, address
EXPORTERS = STAFF | ADMINS | {"routed_opd", "other_opd"}  # rows limited to what each may see
DINKES_PAGE = frozenset({"routed_opd", "sysadmin"})  # the OPD tab of the routed OPD
# the front desk (the default workflow's front desk position, if the world has such a role)
FRONT_DESK = (frozenset(ROLES) & {load_default().front_desk_position}) | SYSADMIN
# who registers requests at the front desk: only holders of the position, not even a sysadmin
DESK_ONLY = frozenset(ROLES) & {load_default().front_desk_position}


def _task_closers(state: str) -> frozenset[str]:
    wf = load_default()
    above = frozenset(wf.escalation_chain(wf.assignee_position)) & POSITION_ROLES
    return above | SYSADMIN | ({wf.assignee_position} if state != "diajukan" else frozenset())


def sees(state: str) -> frozenset[str]:
    """Request summary, documents, timeline: the access table of the service."""
    routed = {"routed_opd"} if state != "diajukan" else set()
    return REQUESTER | STAFF | routed


Who = frozenset[str] | Callable[[str], frozenset[str]]
Ok = frozenset[int] | Callable[[str], frozenset[int]]


@dataclass(frozen=True)
class Rule:
    who: Who
    data: Callable[[World, str], dict[str, Any]] = lambda w, s: {}
    ok: Ok = frozenset({200})
    states: tuple[str, ...] = STATES
    files: Callable[[World, str], dict[str, Any]] | None = None
    check: Callable[[World, str, str, Any], str | None] | None = None

    def allowed(self, state: str) -> frozenset[str]:
        return self.who(state) if callable(self.who) else self.who

    def expected_ok(self, state: str) -> frozenset[int]:
        return self.ok(state) if callable(self.ok) else self.ok


def _rid(w: World, s: str) -> dict[str, Any]:
    return {"id": w.ids[s]}


def _attachment(kind: str) -> Callable[[World, str], dict[str, Any]]:
    def data(w: World, s: str) -> dict[str, Any]:
        assert kind in w.attachments[s], f"the world has no {kind} in state {s}"
        return {"id": w.attachments[s][kind]}
    return data


def _attachment_rules(action: str) -> dict[str, Rule]:
    finished = ("selesai",)
    return {
        f"{action}[request_letter]": Rule(sees, _attachment("request_letter")),
        f"{action}[identity_document]": Rule(PERSONAL, _attachment("identity_document")),
        f"{action}[result]": Rule(sees, _attachment("result"), states=finished),
        f"{action}[signed_reply]": Rule(sees, _attachment("signed_reply"), states=finished),
    }


# --- checks on what an allowed caller gets -------------------------------------------------

def _nik_iff_personal(w: World, role: str, state: str, body: str) -> str | None:
    shown = NIK in body
    if shown != (role in PERSONAL):
        return f"identity number {'shown' if shown else 'missing'}"
    return None


def _listed_iff_sees(w: World, role: str, state: str, body: str) -> str | None:
    result = json.loads(body)["result"]
    listed = w.ids[state] in {r["id"] for r in result["results"]}
    if listed != (role in sees(state)):
        return f"request {'listed' if listed else 'not listed'}"
    if NIK in body:
        return "identity number in a list"
    return None


def _public_events_only(w: World, role: str, state: str, body: str) -> str | None:
    if role != "requester":
        return None
    hidden = {e["visibility"] for e in json.loads(body)["result"]} - {"public"}
    return f"requester sees {hidden} events" if hidden else None


def _own_complaints_only(w: World, role: str, state: str, body: str) -> str | None:
    if role in STAFF:
        return None
    ids = {c["id"] for c in json.loads(body)["result"]["results"]}
    mine = role == "requester"
    if (w.complaint["id"] in ids) != mine:
        return "complaint of another user listed" if ids else "own complaint not listed"
    return None


def _members(w: World, role: str, state: str, body: str) -> str | None:
    listed = w.delivered["id"] in {m[0] for m in json.loads(body)["result"]}
    if listed != (role in sees("selesai")):
        return f"delivery dataset {'listed' if listed else 'not listed'}"
    return None


def _tracked(w: World, role: str, state: str, body: str) -> str | None:
    return None if 'id="track-result"' in body else "the request was not found by tracking"


def _opd_tab_link(w: World, role: str, state: str, body: str) -> str | None:
    link = "/permintaan-data/opd/dinas-kesehatan" in body
    if role == "routed_opd" and not link:
        return "the OPD tab is missing for the OPD's admin"
    if role in {"anonymous", "requester", "other_requester", "other_opd"} and link:
        return "the OPD tab is shown to an outsider"
    return None


# --- the actions --------------------------------------------------------------------------

def _scores(w: World, s: str) -> dict[str, Any]:
    return {"id": w.ids[s], **{f"u{i}": "4" for i in range(1, 10)}, "comment": "Baik."}


ACTIONS: dict[str, Rule] = {
    "statrequest_create": Rule(LOGGED_IN, lambda w, s: {"title": "Data uji"}, frozenset({409})),
    "statrequest_show": Rule(sees, _rid, check=_nik_iff_personal),
    "statrequest_list": Rule(LOGGED_IN, lambda w, s: {"limit": 100}, check=_listed_iff_sees),
    "statrequest_transition": Rule(sees, lambda w, s: {
        "id": w.ids[s], "transition": "kirim_ulang", "version": STALE}, frozenset({409})),
    # corrections only while the request waits for its requester: in none of these states
    "statrequest_update": Rule(frozenset(), lambda w, s: {
        "id": w.ids[s], "version": STALE, "title": "Judul uji"}),
    "statrequest_available_transitions": Rule(sees, _rid),
    "statrequest_event_list": Rule(sees, _rid, check=_public_events_only),
    # an empty file: an allowed caller is refused the file (409), nothing is stored
    "statrequest_attachment_create": Rule(
        lambda s: SYSADMIN | ({"routed_opd"} if s == "menunggu_opd" else set()),
        lambda w, s: {"id": w.ids[s], "kind": "result"}, frozenset({409}),
        files=lambda w, s: {"upload": (__import__("io").BytesIO(b""), "hasil.csv")}),
    **_attachment_rules("statrequest_attachment_show"),
    **_attachment_rules("statrequest_attachment_download"),
    # the spare file is the requester's, but the request is not in the requester's hands
    # (a sysadmin may remove it as a recorded repair, with a reason)
    "statrequest_attachment_delete": Rule(SYSADMIN, lambda w, s: {
        "id": w.spares[s], "reason": "Berkas ganda diunggah karena kesalahan."}),
    "statrequest_position_assign": Rule(ADMINS, lambda w, s: {
        "position": "staf", "user": "pemohon2"}, frozenset({409})),
    "statrequest_position_revoke": Rule(ADMINS, lambda w, s: {"id": NO_ID}, frozenset({404})),
    "statrequest_position_list": Rule(STAFF | ADMINS),
    "statrequest_credential_set": Rule(ADMINS, lambda w, s: {
        "user": "pemohon2", "backend": "bukan-jenis", "reference": "pemohon2.p12"},
        frozenset({409})),
    "statrequest_credential_list": Rule(ADMINS),
    "statrequest_credential_revoke": Rule(ADMINS, lambda w, s: {"id": NO_ID}, frozenset({404})),
    "statrequest_holiday_create": Rule(ADMINS, lambda w, s: {
        "day": "2026-12-31", "name": "Uji", "kind": "bukan_jenis"}, frozenset({409})),
    "statrequest_holiday_delete": Rule(ADMINS, lambda w, s: {"day": "2099-12-30"},
                                       frozenset({404})),
    "statrequest_holiday_list": Rule(EVERYONE),
    "statrequest_workflow_show": Rule(EVERYONE),
    "statrequest_override": Rule(SYSADMIN, lambda w, s: {
        "id": w.ids[s], "state": "selesai", "version": STALE, "note": "Uji."}, frozenset({409})),
    "statrequest_track": Rule(EVERYONE, lambda w, s: {
        "tracking_number": w.tracking[s], "email": EMAIL}),
    "statrequest_verify": Rule(
        EVERYONE, lambda w, s: {"id": w.codes[s] or "tidak-ada-kode"},
        lambda s: frozenset({200}) if s == "selesai" else frozenset({404})),
    # the requester's and the OPD's own decisions: nobody (not even a sysadmin) makes them
    # on their behalf
    "statrequest_publish_consent": Rule(
        lambda s: REQUESTER if s == "selesai" else frozenset(), _rid),
    # ... or the staff on an OPD's behalf (the world's staff member handles every request)
    "statrequest_publish_open": Rule(
        lambda s: frozenset({"routed_opd", "staf"}) if s == "selesai" else frozenset(),
        lambda w, s: {"id": w.ids[s], "organization": w.dinkes["id"]},
        frozenset({200, 409})),
    "statrequest_stats": Rule(STAFF | ADMINS),
    "statrequest_stats_public": Rule(EVERYONE),
    "statrequest_stats_export": Rule(EXPORTERS),
    "statrequest_survey_submit": Rule(
        REQUESTER, _scores,
        lambda s: frozenset({200, 409}) if s == "selesai" else frozenset({409})),
    "statrequest_survey_show": Rule(REQUESTER | STAFF, _rid),
    "statrequest_complaint_create": Rule(LOGGED_IN, lambda w, s: {"subject": "Uji"},
                                         frozenset({409})),
    # the front desk records a complaint received at the counter (here without a contact)
    "statrequest_complaint_record": Rule(FRONT_DESK, lambda w, s: {"subject": "Uji"},
                                         frozenset({409})),
    # the front desk registers a request received by letter (here without the documents)
    "statrequest_register": Rule(DESK_ONLY, lambda w, s: {"title": "Data uji"}, frozenset({409})),
    "statrequest_register_list": Rule(STAFF),
    "statrequest_register_export": Rule(STAFF),
    "statrequest_complaint_show": Rule(REQUESTER | STAFF, lambda w, s: {"id": w.complaint["id"]}),
    "statrequest_complaint_list": Rule(LOGGED_IN, check=_own_complaints_only),
    "statrequest_complaint_respond": Rule(SECRETARY, lambda w, s: {
        "id": w.complaint["id"], "response": ""}, frozenset({409})),
    "statrequest_identity_access_list": Rule(SECRETARY, _rid),
    "statrequest_publication_show": Rule(sees, _rid),
    # an OPD's task is closed by the assigned staff member (once assigned) or those above the
    # staff position; here an unknown OPD on a stale version: refused, nothing written
    "statrequest_opd_task_close": Rule(_task_closers, lambda w, s: {
        "id": w.ids[s], "organization": NO_ID, "reason": "Uji", "version": STALE},
        frozenset({404, 409})),
    # objections (keberatan): the world's finished request was fulfilled in time, so there is
    # nothing to object to (409); none is filed, so none can be decided (404 for officials)
    "statrequest_objection_create": Rule(REQUESTER, lambda w, s: {
        "id": w.ids[s], "grounds": "tidak_dipenuhi", "reason": "Uji"}, frozenset({409})),
    "statrequest_objection_decide": Rule(frozenset(), lambda w, s: {
        "id": w.ids[s], "decision": "ditolak", "reason": "Uji", "passphrase": "x"}),
    "statrequest_objection_show": Rule(REQUESTER | STAFF, _rid),
    "statrequest_objection_list": Rule(STAFF),
    # CKAN's member_list, chained: an organisation's delivery datasets are not listed to
    # those who may not read them
    "member_list": Rule(EVERYONE, lambda w, s: {"id": w.delivered["owner_org"],
                                                "object_type": "package"}, check=_members),
    "statrequest_notifications_flush": Rule(SYSADMIN),
    "statrequest_sla_check": Rule(SYSADMIN),
    "statrequest_digest": Rule(SYSADMIN),
    "statrequest_purge_spam": Rule(SYSADMIN, lambda w, s: {"user": "tidak-ada-pengguna"},
                                   frozenset({409})),
    "statrequest_purge_personal_data": Rule(SYSADMIN, lambda w, s: {"dry_run": True}),
}


# CKAN's own actions whose auth functions the extension chains: the delivery dataset of the
# finished request is read by exactly those who may see the request
EXTRA_ACTIONS: dict[str, Rule] = {
    "package_show": Rule(sees, lambda w, s: {"id": w.delivered["id"]}, states=("selesai",)),
    "resource_show": Rule(sees, lambda w, s: {"id": w.delivered["resource"]},
                          states=("selesai",)),
    "package_search": Rule(EVERYONE, lambda w, s: {"q": "*:*", "include_private": True,
                                                   "rows": 1000}, states=("selesai",),
                           check=lambda w, r, s, body: None if (w.delivered["id"] in {
                               p["id"] for p in json.loads(body)["result"]["results"]}) == (
                               r in sees("selesai")) else "delivery dataset search leak"),
}


# --- the pages ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Page(Rule):
    path: Callable[[World, str], str] = lambda w, s: "/"
    query: Callable[[World, str], dict[str, Any]] | None = None


P = "/permintaan-data"


def _ref(suffix: str = "") -> Callable[[World, str], str]:
    return lambda w, s: f"{P}/{w.tracking[s]}{suffix}"


def _download(kind: str) -> Callable[[World, str], str]:
    return lambda w, s: f"{P}/berkas/{_attachment(kind)(w, s)['id']}"


def _download_pages() -> dict[tuple[str, str, str], Page]:
    rules = _attachment_rules("download")
    return {("statrequest_portal.download", "GET", key.split("[")[1].rstrip("]")):
            Page(r.who, ok=r.ok, states=r.states, path=_download(key.split("[")[1].rstrip("]")))
            for key, r in rules.items()}


def _letter(w: World, s: str) -> str:
    return f"{P}/verifikasi/{w.codes[s] or 'tidak-ada-kode'}"


LETTER_OK: Ok = lambda s: frozenset({200}) if s == "selesai" else frozenset({404})  # noqa: E731

PAGES: dict[tuple[str, str, str], Page] = {
    ("statrequest.index", "GET", ""): Page(EVERYONE, path=lambda w, s: f"{P}/"),
    ("statrequest_portal.read", "GET", ""): Page(sees, path=_ref(), check=_nik_iff_personal),
    ("statrequest_portal.fire", "POST", ""): Page(
        sees, lambda w, s: {"transition": "kirim_ulang", "version": str(STALE)},
        path=_ref("/aksi")),
    # corrections only while the request waits for its requester: in none of these states
    ("statrequest_portal.correct", "POST", ""): Page(
        frozenset(), lambda w, s: {"title": "Judul uji", "version": str(STALE)},
        path=_ref("/perbaiki")),
    ("statrequest_portal.guest_correct", "POST", ""): Page(
        EVERYONE, lambda w, s: {"title": "Judul uji", "version": "1"}, frozenset({404}),
        path=lambda w, s: f"{P}/tamu/bukan-tautan-tamu/perbaiki"),
    ("statrequest_portal.disposition_sheet", "GET", ""): Page(STAFF, path=_ref("/lembar-disposisi")),
    ("statrequest_feedback.survey", "GET", ""): Page(REQUESTER | STAFF, path=_ref("/survei")),
    ("statrequest_feedback.survey", "POST", ""): Page(
        REQUESTER, lambda w, s: {k: v for k, v in _scores(w, s).items() if k != "id"},
        lambda s: frozenset({200, 302}) if s == "selesai" else frozenset({200}),
        path=_ref("/survei")),
    ("statrequest_objection.page", "GET", ""): Page(REQUESTER | STAFF, path=_ref("/keberatan")),
    ("statrequest_publication.page", "GET", ""): Page(sees, path=_ref("/publikasi")),
    # publishing for an unknown OPD: told beside the form, nothing written
    ("statrequest_publication.page", "POST", ""): Page(
        sees, lambda w, s: {"step": "publish", "organization": NO_ID, "title": "Uji"},
        frozenset({400}), path=_ref("/publikasi")),
    ("statrequest_publication.identity_access", "GET", ""): Page(
        lambda s: SECRETARY, path=_ref("/akses-identitas")),
    ("statrequest_opd_tasks.close", "POST", ""): Page(
        _task_closers, lambda w, s: {"organization": NO_ID, "reason": "Uji", "version": str(STALE)},
        frozenset({200}), path=_ref("/tugas-opd/tutup")),  # back on the request page, told why
    ("statrequest_objection.page", "POST", ""): Page(
        REQUESTER, lambda w, s: {"step": "file", "grounds": "tidak_dipenuhi", "reason": "Uji"},
        frozenset({400}), path=_ref("/keberatan")),
    ("statrequest_admin.index", "GET", ""): Page(ADMINS, path=lambda w, s: f"{P}/admin/"),
    ("statrequest_admin.assign", "POST", ""): Page(
        ADMINS, lambda w, s: {"position": "staf", "user": "pemohon2"},
        path=lambda w, s: f"{P}/admin/jabatan"),
    ("statrequest_admin.revoke", "POST", ""): Page(
        ADMINS, ok=frozenset({404}), path=lambda w, s: f"{P}/admin/jabatan/{NO_ID}/cabut"),
    ("statrequest_admin.set_credential", "POST", ""): Page(
        ADMINS, lambda w, s: {"user": "pemohon2", "backend": "bukan-jenis",
                              "reference": "pemohon2.p12"},
        path=lambda w, s: f"{P}/admin/kunci"),
    ("statrequest_admin.revoke_credential", "POST", ""): Page(
        ADMINS, ok=frozenset({404}), path=lambda w, s: f"{P}/admin/kunci/{NO_ID}/cabut"),
    ("statrequest_admin.add_holiday", "POST", ""): Page(
        ADMINS, lambda w, s: {"day": "31/12/2026", "name": "Uji", "kind": "cuti_bersama"},
        path=lambda w, s: f"{P}/admin/libur"),
    ("statrequest_admin.delete_holiday", "POST", ""): Page(
        ADMINS, ok=frozenset({404}), path=lambda w, s: f"{P}/admin/libur/2099-12-30/hapus"),
    # a visitor is led to the login page (redirects are followed; tests/views/test_journeys.py)
    ("statrequest_portal.new", "GET", ""): Page(EVERYONE, path=lambda w, s: f"{P}/baru"),
    # where a user goes after logging in: always a redirect (a visitor: to the login page)
    ("statrequest.start", "GET", ""): Page(EVERYONE, path=lambda w, s: f"{P}/mulai"),
    # the blank data request form: public, it holds no data
    ("statrequest.blank_form", "GET", ""): Page(EVERYONE, path=lambda w, s: f"{P}/formulir"),
    ("statrequest_portal.new", "POST", ""): Page(
        LOGGED_IN, lambda w, s: {"title": ""}, path=lambda w, s: f"{P}/baru"),
    ("statrequest_portal.submitted", "GET", ""): Page(
        sees, path=lambda w, s: f"{P}/baru/terkirim/{w.tracking[s]}"),
    **_download_pages(),
    ("statrequest_portal.inbox", "GET", ""): Page(LOGGED_IN, path=lambda w, s: f"{P}/kotak-masuk"),
    ("statrequest_portal.track", "GET", ""): Page(
        EVERYONE, path=lambda w, s: f"{P}/lacak", query=lambda w, s: {"nomor": w.tracking[s]}),
    ("statrequest_portal.track", "POST", ""): Page(
        EVERYONE, lambda w, s: {"nomor": w.tracking[s], "email": EMAIL},
        path=lambda w, s: f"{P}/lacak", check=_tracked),
    ("statrequest_portal.opd", "GET", ""): Page(
        DINKES_PAGE, path=lambda w, s: f"{P}/opd/dinas-kesehatan"),
    # officials see every complaint; others are sent to their own (302)
    ("statrequest_feedback.complaints", "GET", ""): Page(
        LOGGED_IN, ok=frozenset({200, 302}), path=lambda w, s: f"{P}/pengaduan"),
    ("statrequest_feedback.complaint_read", "GET", ""): Page(
        REQUESTER | STAFF, path=lambda w, s: f"{P}/pengaduan/{w.complaint['number']}"),
    ("statrequest_feedback.complaint_respond", "POST", ""): Page(
        SECRETARY, lambda w, s: {"response": ""},
        path=lambda w, s: f"{P}/pengaduan/{w.complaint['number']}/tanggapi"),
    ("statrequest_feedback.complaint_new", "GET", ""): Page(
        LOGGED_IN, path=lambda w, s: f"{P}/pengaduan/baru"),
    ("statrequest_feedback.complaint_new", "POST", ""): Page(
        LOGGED_IN, lambda w, s: {"subject": ""}, path=lambda w, s: f"{P}/pengaduan/baru"),
    ("statrequest_feedback.complaint_record", "GET", ""): Page(
        FRONT_DESK, path=lambda w, s: f"{P}/pengaduan/loket"),
    ("statrequest_feedback.complaint_record", "POST", ""): Page(
        FRONT_DESK, lambda w, s: {"subject": ""}, path=lambda w, s: f"{P}/pengaduan/loket"),
    ("statrequest_reception.new", "GET", ""): Page(DESK_ONLY, path=lambda w, s: f"{P}/loket"),
    ("statrequest_reception.new", "POST", ""): Page(
        DESK_ONLY, lambda w, s: {"title": ""}, frozenset({400}), path=lambda w, s: f"{P}/loket"),
    ("statrequest_reception.receipt", "GET", ""): Page(
        STAFF, path=lambda w, s: f"{P}/loket/tanda-terima/{w.tracking[s]}"),
    ("statrequest_reception.register", "GET", ""): Page(STAFF, path=lambda w, s: f"{P}/buku-agenda"),
    ("statrequest_reception.register_export", "GET", ""): Page(
        STAFF, path=lambda w, s: f"{P}/buku-agenda/ekspor.csv"),
    ("statrequest_feedback.my_complaints", "GET", ""): Page(
        LOGGED_IN, path=lambda w, s: f"{P}/pengaduan/saya"),
    ("statrequest_portal.mine", "GET", ""): Page(LOGGED_IN, path=lambda w, s: f"{P}/saya"),
    ("statrequest_portal.all_requests", "GET", ""): Page(STAFF, path=lambda w, s: f"{P}/semua"),
    ("statrequest_stats.index", "GET", ""): Page(STAFF | ADMINS, path=lambda w, s: f"{P}/statistik"),
    ("statrequest_stats.export", "GET", "csv"): Page(
        EXPORTERS, path=lambda w, s: f"{P}/statistik/ekspor.csv"),
    ("statrequest_stats.export", "GET", "xlsx"): Page(
        EXPORTERS, path=lambda w, s: f"{P}/statistik/ekspor.xlsx"),
    ("statrequest_portal.guest_read", "GET", ""): Page(
        EVERYONE, ok=frozenset({404}), path=lambda w, s: f"{P}/tamu/bukan-tautan-tamu"),
    ("statrequest_portal.guest_fire", "POST", ""): Page(
        EVERYONE, lambda w, s: {"transition": "batalkan", "version": "1"}, frozenset({404}),
        path=lambda w, s: f"{P}/tamu/bukan-tautan-tamu/aksi"),
    ("statrequest_stats.transparency", "GET", ""): Page(
        EVERYONE, path=lambda w, s: f"{P}/transparansi"),
    ("statrequest_verify.check", "GET", ""): Page(EVERYONE, path=lambda w, s: f"{P}/verifikasi/"),
    ("statrequest_verify.check", "POST", ""): Page(EVERYONE, path=lambda w, s: f"{P}/verifikasi/"),
    ("statrequest_verify.letter", "GET", ""): Page(EVERYONE, ok=LETTER_OK, path=_letter),
    ("statrequest_verify.letter", "POST", ""): Page(EVERYONE, ok=LETTER_OK, path=_letter),
}

# CKAN's own pages that show something of ours: the OPD tab on the organisation page
EXTRA_PAGES: dict[tuple[str, str, str], Page] = {
    ("organization.read", "GET", ""): Page(
        EVERYONE, path=lambda w, s: "/organization/dinas-kesehatan", check=_opd_tab_link),
}


# --- what the running application registers -----------------------------------------------

def registered_actions() -> set[str]:
    """The extension's actions, from CKAN's registry after the plugins loaded."""
    logic.get_action("statrequest_show")  # fills the registry
    names = {n for n in logic._actions if n.startswith("statrequest")}  # noqa: SLF001
    names |= set(plugins.get_plugin("statrequest").get_actions())
    return names


def registered_pages(w: World) -> set[tuple[str, str]]:
    ours = {bp.name for bp in plugins.get_plugin("statrequest").get_blueprint()}
    pages = set()
    for rule in w.app.flask_app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ours or rule.endpoint.startswith("statrequest"):
            pages |= {(rule.endpoint, m) for m in rule.methods & {"GET", "POST", "PUT", "DELETE",
                                                                   "PATCH"}}
    return pages


def test_every_action_is_in_the_matrix(world):
    registered = registered_actions()
    tabled = {key.split("[")[0] for key in ACTIONS}
    missing = sorted(registered - tabled)
    assert not missing, "add " + ", ".join(missing) + " to the matrix (tests/hardening)"
    stale = sorted(tabled - registered)
    assert not stale, "remove " + ", ".join(stale) + " from the matrix: not registered"


def test_every_page_is_in_the_matrix(world):
    registered = registered_pages(world)
    tabled = {(endpoint, method) for endpoint, method, _ in PAGES}
    missing = sorted(registered - tabled)
    assert not missing, "add " + ", ".join(f"{m} {e}" for e, m in missing) + \
        " to the matrix (tests/hardening)"
    stale = sorted(tabled - registered)
    assert not stale, "remove " + ", ".join(f"{m} {e}" for e, m in stale) + \
        " from the matrix: not registered"


# --- the cases ----------------------------------------------------------------------------

def _action_cases() -> list[Any]:
    return [pytest.param(state, role, key, id=f"{state}-{role}-{key}")
            for state in STATES for key, rule in {**ACTIONS, **EXTRA_ACTIONS}.items()
            if state in rule.states
            for role in ROLES]


def _page_cases() -> list[Any]:
    return [pytest.param(state, role, key, id=f"{state}-{role}-{key[1]}-{key[0]}"
                         + (f"[{key[2]}]" if key[2] else ""))
            for state in STATES for key, rule in {**PAGES, **EXTRA_PAGES}.items()
            if state in rule.states for role in ROLES]


def _verdict(rule: Rule, role: str, state: str, status: int, body: str, what: str,
             w: World) -> None:
    assert status < 500, f"{what}: {status} (a server error)\n{body[:600]}"
    ok = rule.expected_ok(state)
    if role in rule.allowed(state):
        assert status in ok, f"{what}: {status}, expected {sorted(ok)} (allowed)\n{body[:400]}"
        if rule.check and status == 200:
            problem = rule.check(w, role, state, body)
            assert problem is None, f"{what}: {problem}"
    else:
        refused = {403, 404} - ok if ok & {403, 404} else {403, 404}
        assert status in refused, f"{what}: {status}, expected {sorted(refused)} (refused)\n" \
            f"{body[:400]}"


@pytest.mark.parametrize("state,role,key", _action_cases())
def test_action(world, state, role, key):
    rule = {**ACTIONS, **EXTRA_ACTIONS}[key]
    action = key.split("[")[0]
    data = rule.data(world, state)
    files = rule.files(world, state) if rule.files else None
    res = world.api(role, action, data, files)
    body = res.get_data(as_text=True)
    what = f"{action} {data} as {role} ({world.user(role)}) in {state}"
    _verdict(rule, role, state, res.status_code, body, what, world)
    if res.status_code >= 400:
        error = (res.get_json(silent=True) or {}).get("error") or {}
        assert error.get("message") or len(error) > 1, f"{what}: no error message: {body[:300]}"


@pytest.mark.parametrize("state,role,key", _page_cases())
def test_page(world, state, role, key):
    rule = {**PAGES, **EXTRA_PAGES}[key]
    endpoint, method, _ = key
    path = rule.path(world, state)
    adapter = world.app.flask_app.url_map.bind("test.ckan.net")
    assert adapter.match(path, method=method)[0] == endpoint, f"{path} is not {endpoint}"
    data = rule.data(world, state) if method == "POST" else None
    query = rule.query(world, state) if rule.query else None
    res = world.page(role, method, path, data, query)
    what = f"{method} {path} {data or ''} as {role} ({world.user(role)}) in {state}"
    textual = (res.mimetype or "").startswith(("text/", "application/json"))
    _verdict(rule, role, state, res.status_code, res.get_data(as_text=True) if textual else "",
             what, world)


def test_matrix_size():
    actions, pages = len(_action_cases()), len(_page_cases())
    print(f"matrix: {len(ACTIONS)} action cases × {len(ROLES)} roles × states = {actions}; "
          f"{len(PAGES) + len(EXTRA_PAGES)} page cases × {len(ROLES)} roles × states = {pages}")
    assert len(ROLES) == 11 and actions > 1000 and pages > 1000
