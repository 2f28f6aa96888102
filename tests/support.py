"""Helpers shared by the tests: real files, request data, calling actions as a user."""
from __future__ import annotations

import io
import os
import types
from typing import Any

import ckantoolkit as tk
from PIL import Image
from werkzeug.datastructures import FileStorage

from ckanext.statrequest.lib.samples import pdf_bytes  # noqa: F401 - re-exported for the tests

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

    people = types.SimpleNamespace()
    people.sysadmin = factories.Sysadmin()["name"]
    people.diskominfo = factories.Organization(name="diskominfo", title="Diskominfo")["id"]
    for name, position in POSITIONS.items():
        factories.User(name=name, fullname=name.title(), password=USER_PASSWORD)
        as_sysadmin("organization_member_create", id="diskominfo", username=name,
                    role="admin" if name == "kadis" else "editor")
        as_sysadmin("statrequest_position_assign", position=position, user=name,
                    nip="19800101200501100" + str(len(name)))
    issue_credentials(*SIGNERS)  # keys belong to the people who initial and sign
    people.opd = {}
    for slug in ("dinas-kesehatan", "dinas-pendidikan", "dinas-pertanian"):
        org = factories.Organization(name=slug, title=slug.replace("-", " ").title())
        admin = f"admin-{slug.split('-')[1]}"
        factories.User(name=admin, password=USER_PASSWORD)
        as_sysadmin("organization_member_create", id=slug, username=admin, role="admin")
        people.opd[slug] = {"id": org["id"], "admin": admin}
    for name in ("pemohon1", "pemohon2", "other"):
        factories.User(name=name, fullname=name.title(), password=USER_PASSWORD)
    return people
