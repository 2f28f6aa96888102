"""Helpers shared by the tests: real files, request data, calling actions as a user."""
from __future__ import annotations

import asyncio
import email
import email.policy
import io
import os
import socket
import types
from email.message import EmailMessage
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from aiosmtpd.controller import Controller
from ckan.lib import jobs as ckan_jobs
from PIL import Image
from werkzeug.datastructures import FileStorage

from ckanext.statrequest.documents.samples import pdf_bytes  # noqa: F401 - re-exported for the tests

PASSPHRASE = "rahasia-uji"  # the test PKI's passphrase (documents.testpki)


# --- files ----------------------------------------------------------------------------------



def png_bytes(size: int = 8) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def upload(name: str, data: bytes) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def request_files() -> dict[str, FileStorage]:
    return {
        "identity_document": upload("ktp.png", png_bytes()),
        "request_letter": upload("surat.pdf", pdf_bytes()),
        "data_form": upload("formulir.pdf", pdf_bytes("Formulir")),
    }


def request_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "requester_name": "Dewi Lestari",
        "identity_type": "nik",
        "identity_number": "6104012345678901",
        "institution": "Universitas Tanjungpura",
        "category": "masyarakat_umum",
        "email": "dewi@example.test",
        "phone": "0812-3456-7890",
        "address": "Jl. Merdeka 1, Ketapang",
        "title": "Jumlah tenaga kesehatan per puskesmas 2025",
        "description": "Data jumlah dokter, bidan dan perawat per puskesmas.",
        "period": "2023-2025",
        "breakdown": "Kecamatan",
        "data_format": "CSV",
        "purpose": "Penelitian skripsi",
        "consent_personal_data": True,
    }
    data.update(request_files())
    data.update(overrides)
    return data


# --- people ---------------------------------------------------------------------------------

def act(_user: str | None, action: str, **data: Any) -> Any:
    """Call an action as `_user`, with its auth function (unlike helpers.call_action)."""
    context = {"user": _user or "", "ignore_auth": False}
    return tk.get_action(action)(context, data)


def as_sysadmin(action: str, **data: Any) -> Any:
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    return tk.get_action(action)({"user": site_user, "ignore_auth": True}, data)


POSITIONS = {
    "sekretaris": "sekretaris",
    "kadis": "kepala_dinas",
    "kabid": "kepala_bidang",
    "kasi": "kepala_seksi",
    "staf1": "staf",
    "staf2": "staf",
}
SIGNERS = ("kabid", "sekretaris", "kadis")  # the people of POSITIONS who initial or sign
TEST_PKI_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            ".run", "test-pki")  # = signing.pki_dir of test.ini


def issue_credentials(*names: str, identities: dict[str, tuple[str, ...]] | None = None
                      ) -> dict[str, Any]:
    """Give each named user their OWN test certificate (``<name>.p12`` in the test PKI) and
    register it as their signing credential. Keys belong to people, not positions."""
    from ckanext.statrequest.documents.testpki import create_test_pki

    pki = create_test_pki(TEST_PKI_DIR, positions=names, identities=identities)
    for name in names:
        as_sysadmin("statrequest_credential_set", user=name, backend="pkcs12",
                    reference=f"{name}.p12")
    return pki




def fire(user: str, request_id: str, transition: str, **inputs: Any) -> dict[str, Any]:
    """Fire a transition as `user` on the request's current version."""
    version = as_sysadmin("statrequest_show", id=request_id)["version"]
    return act(user, "statrequest_transition", id=request_id, transition=transition,
               version=version, **inputs)


def submit(user: str = "pemohon1", **overrides: Any) -> dict[str, Any]:
    return act(user, "statrequest_create", **request_data(**overrides))


USER_PASSWORD = "Sandi-Uji-2026"


def make_office() -> types.SimpleNamespace:
    """Diskominfo with one user per position (the signing ones with their own signing
    credential), three OPD with an admin each, two requesters, another logged-in user and a
    sysadmin: the people of the `office` fixture and of the hardening world."""
    from ckan.tests import factories

    from ckanext.statrequest import settings

    people = types.SimpleNamespace()
    people.sysadmin = factories.Sysadmin()["name"]
    people.diskominfo = factories.Organization(name="diskominfo", title="Diskominfo")["id"]
    # the active workflow's positions: the usual people for those it shares with the default
    # one, and one user named after the code for each other position that holds a state
    wf = settings.workflow()
    staff = {name: code for name, code in POSITIONS.items() if code in wf.positions}
    holders = {s.holder for s in wf.states.values()}
    staff.update({code: code for code in wf.positions
                  if code not in staff.values() and code in holders})
    people.staff = staff
    for name, position in staff.items():
        factories.User(name=name, fullname=name.title(), password=USER_PASSWORD, image_url="")
        as_sysadmin("organization_member_create", id="diskominfo", username=name,
                    role="admin" if name == "kadis" else "editor")
        as_sysadmin("statrequest_position_assign", position=position, user=name,
                    nip="19800101200501100" + str(len(name)))
    signing = {t.actor for t in wf.transitions.values() if t.needs("signature")}
    people.signers = tuple(n for n in (*SIGNERS, *staff) if staff.get(n) in signing)
    people.signers = tuple(dict.fromkeys(people.signers))
    issue_credentials(*people.signers)  # keys belong to the people who initial and sign
    people.opd = {}
    for slug in ("dinas-kesehatan", "dinas-pendidikan", "dinas-pertanian"):
        org = factories.Organization(name=slug, title=slug.replace("-", " ").title())
        admin = f"admin-{slug.split('-')[1]}"
        factories.User(name=admin, password=USER_PASSWORD, image_url="")
        as_sysadmin("organization_member_create", id=slug, username=admin, role="admin")
        people.opd[slug] = {"id": org["id"], "admin": admin}
    for name in ("pemohon1", "pemohon2", "other"):  # no picture: the factory's is off-site
        factories.User(name=name, fullname=name.title(), password=USER_PASSWORD, image_url="")
    return people


# --- a real mail server and a real worker (the `mailbox` and `queue` fixtures are in conftest) --

class Inbox:
    """aiosmtpd handler keeping what it accepted; `fail` makes it answer 451 (try later)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.fail = False
        self.delay = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        if self.fail:
            return "451 4.3.0 Mailbox temporarily unavailable"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def take(self) -> list[EmailMessage]:
        taken, self.messages = self.messages, []
        return taken


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_smtp(inbox: Inbox, port: int) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller



def work(queue: str, scheduler: bool = False) -> None:
    """A real CKAN worker in burst mode (in-process, see the with_test_worker fixture)."""
    ckan_jobs.Worker([queue]).work(burst=True, with_scheduler=scheduler)
    model.Session.remove()


# --- a request at the end of the default workflow ----------------------------------------------

RESULT_CSV = b"puskesmas,dokter,bidan\nKetapang,4,12\n"
RESULT_NAME = "nakes-2025.csv"


def walk(office: Any, rid: str, through: str, outcome: str = "dipenuhi") -> str:
    """Fire the default workflow's steps on request `rid`, in order, up to and including the
    transition `through` (the result is RESULT_NAME from Dinas Kesehatan, handled by staf1)."""
    dinkes = office.opd["dinas-kesehatan"]
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("sekretaris", "teruskan_ke_kadis", {}),
        ("kadis", "disposisi_ke_kabid", {"instruction": "Mohon ditindaklanjuti."}),
        ("kabid", "disposisi_ke_kasi", {"instruction": "Koordinasikan dengan Dinkes."}),
        ("kasi", "tugaskan_staf", {"assignee": "staf1", "instruction": "Siapkan datanya."}),
        ("staf1", "teruskan_ke_opd", {"opd": [dinkes["id"]]}),
        (dinkes["admin"], "unggah_hasil", {"result": lambda: upload(RESULT_NAME, RESULT_CSV)}),
        ("staf1", "hasil_sesuai", {"outcome": outcome, "note": "Data sesuai permintaan."}),
        ("kasi", "teruskan_ke_kabid", {}),
        ("kabid", "paraf_kabid", {"passphrase": PASSPHRASE}),
        ("sekretaris", "paraf_sekretaris", {"passphrase": PASSPHRASE}),
        ("kadis", "tandatangani", {"passphrase": PASSPHRASE}),
    ]
    assert through in [name for _, name, _ in steps], through
    for user, name, inputs in steps:
        fire(user, rid, name, **{k: v() if callable(v) else v for k, v in inputs.items()})
        if name == through:
            return rid
    raise AssertionError("unreachable")


def finished_request(office: Any, outcome: str = "dipenuhi") -> str:
    """A request walked through the whole default workflow to `selesai` (as in
    logic/test_workflow_walk), with one result file (RESULT_NAME) from Dinas Kesehatan."""
    rid = walk(office, submit()["id"], "tandatangani", outcome)
    assert act("kadis", "statrequest_show", id=rid)["state"] == "selesai"
    return rid


# --- the front desk (reception of letters, emails and visits) ----------------------------------

FRONT_DESK = "loket"


def make_front_desk(name: str = FRONT_DESK) -> str:
    """A Diskominfo member holding the workflow's front-desk position (on top of `office`)."""
    import datetime as dt

    from ckan.tests import factories

    from ckanext.statrequest import settings

    factories.User(name=name, fullname="Petugas " + name.title(), password=USER_PASSWORD)
    as_sysadmin("organization_member_create", id="diskominfo", username=name, role="editor")
    as_sysadmin("statrequest_position_assign", position=settings.workflow().front_desk_position,
                user=name, valid_from=dt.date.today().isoformat())
    model.Session.remove()
    return name


def desk_data(**overrides: Any) -> dict[str, Any]:
    """A paper letter brought to the counter today, by someone without an account."""
    import datetime as dt

    data = request_data(email="warga@example.test")
    del data["consent_personal_data"]
    data.update(channel="surat", received_on=dt.date.today().isoformat(),
                sender_letter_number="005/UNTAN/XII/2026",
                sender_letter_date=dt.date.today().isoformat())
    data.update(overrides)
    return data


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF as a reader sees it (poppler's pdftotext), spaces collapsed."""
    import shutil
    import subprocess

    exe = shutil.which("pdftotext")
    assert exe, "pdftotext missing (apt-get install poppler-utils; dev/services.sh install does)"
    out = subprocess.run([exe, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                         check=True, timeout=30).stdout.decode("utf-8")
    return " ".join(out.split())


# --- the shipped workflows: the default SOP and the second regency's (workflows/) ------------

SHIPPED_WORKFLOWS = ("default", "ppid_desk")


def use_workflow(name: str, ckan_config: Any, monkeypatch: Any) -> Any:
    """Make a shipped workflow the active one for this test, with its own letterhead (the
    letter.* options of workflows/<name>.ini); returns it. "default": the SOP of core/."""
    import configparser

    from ckanext.statrequest import settings
    from ckanext.statrequest.core import workflow as wflib

    if name != "default":
        folder = wflib.DEFAULT_PATH.parents[1] / "workflows"
        monkeypatch.setitem(ckan_config, "ckanext.statrequest.workflow_file",
                            str(folder / f"{name}.yaml"))
        ini = configparser.ConfigParser(interpolation=None)
        ini.read(folder / f"{name}.ini", encoding="utf-8")
        for key, value in ini["app:main"].items():
            if key.startswith("ckanext.statrequest.letter."):
                monkeypatch.setitem(ckan_config, key, value)
    return settings.workflow()


def person_for(office: Any, actor: str, assignee: str = "staf1") -> str:
    """A user who may fire a step of `actor` on a request of `submit()` routed to Dinas
    Kesehatan: the requester, that OPD's admin, or the office's holder of the position."""
    from ckanext.statrequest import settings
    from ckanext.statrequest.core import workflow as wflib

    if actor == wflib.REQUESTER:
        return "pemohon1"
    if actor == wflib.OPD:
        return office.opd["dinas-kesehatan"]["admin"]
    if actor == settings.workflow().assignee_position:
        return assignee
    return next(name for name, code in office.staff.items() if code == actor)
