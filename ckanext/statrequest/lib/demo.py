"""Demo data for `make demo`: Diskominfo, three OPD, datasets, one user per position, requesters.

Idempotent: what exists already is left as it is, so running it twice duplicates nothing.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any

import ckantoolkit as tk

log = logging.getLogger(__name__)

PASSWORD = "Demo-Satudata-2026"

ORGANIZATIONS = [
    ("diskominfo", "Dinas Komunikasi dan Informatika", "Diskominfo: pengelola Portal Satu Data."),
    ("dinas-kesehatan", "Dinas Kesehatan", "Perangkat daerah urusan kesehatan."),
    ("dinas-pendidikan", "Dinas Pendidikan dan Kebudayaan", "Perangkat daerah urusan pendidikan."),
    ("dinas-pertanian", "Dinas Pertanian", "Perangkat daerah urusan pertanian."),
]

# (user name, full name, rung or None, organisation and capacity or None). The position is
# read from the workflow: the rung on the chain from the assignee position up its superiors
# (0 the staff, 1 their superior, ...; -1 the top, -2 the one below it), so the demo fits a
# regency's own workflow; a rung the chain does not have (no Secretary) gives no position.
USERS: list[tuple[str, str, int | None, tuple[str, str] | None]] = [
    ("sekretaris", "Hj. Rahmawati, S.Sos., M.Si.", -2, ("diskominfo", "editor")),
    ("kadis", "Drs. H. Syarif Hidayat, M.Si.", -1, ("diskominfo", "admin")),
    # acting Head of Agency (Plt) for a few weeks, with their own certificate
    ("plt-kadis", "Ir. Bambang Wijaya, M.Si.", -1, ("diskominfo", "editor")),
    ("kabid", "Andi Pratama, S.Kom., M.T.", 2, ("diskominfo", "editor")),
    ("kasi", "Maria Ulfa, S.Si.", 1, ("diskominfo", "editor")),
    ("staf1", "Budi Santoso, A.Md.", 0, ("diskominfo", "member")),
    ("staf2", "Siti Aminah, S.Stat.", 0, ("diskominfo", "member")),
    ("admin-dinkes", "dr. Yohanes Lim", None, ("dinas-kesehatan", "admin")),
    ("admin-disdik", "Nurul Hasanah, S.Pd.", None, ("dinas-pendidikan", "admin")),
    ("admin-distan", "Ir. Agus Salim", None, ("dinas-pertanian", "admin")),
    ("pemohon1", "Dewi Lestari", None, None),
    ("pemohon2", "PT Borneo Agro Lestari", None, None),
]

NIPS = {  # demo civil-servant numbers (NIP, 18 digits), also put in the test certificates
    "kadis": "196805121994031006", "sekretaris": "197402022000032004",
    "kabid": "198108172006041002", "kasi": "198503302010012011",
    "plt-kadis": "197011231996031002",
}
RANKS = {  # pangkat/golongan, printed under the signer's name
    "kadis": "Pembina Utama Muda (IV/c)", "sekretaris": "Pembina (IV/a)",
    "kabid": "Penata Tingkat I (III/d)", "kasi": "Penata (III/c)",
    "plt-kadis": "Pembina Tingkat I (IV/b)",
}
# The front-desk officer (the workflow's front_desk_position) and what they registered: a
# letter of a village head and a visit of a student, neither with an account
DESK_USER = ("loket", "Rina Marlina, A.Md.")
DESK_REQUESTS: list[dict[str, Any]] = [
    {"channel": "surat", "requester_name": "Suparman", "identity_type": "nik",
     "identity_number": "6104011203700001", "institution": "Pemerintah Desa Sungai Awan Kiri",
     "category": "instansi_pemerintah", "phone": "0813 4567 8901",
     "sender_letter_number": "140/27/PEM/2026",
     "title": "Jumlah penduduk miskin per dusun 2025",
     "description": "Data jumlah penduduk miskin per dusun untuk perencanaan desa.",
     "purpose": "Musyawarah perencanaan pembangunan desa"},
    {"channel": "langsung", "requester_name": "Fitri Handayani", "identity_type": "nik",
     "identity_number": "6104015507020002", "category": "masyarakat_umum",
     "email": "fitri.handayani@satudata.test",
     "title": "Produksi padi per kecamatan 2021-2025",
     "description": "Data produksi padi per kecamatan lima tahun terakhir.",
     "purpose": "Penelitian skripsi"},
]

# Acting appointments: user -> (kind, stands in for, days from today until it ends)
ACTING = {"plt-kadis": ("plt", "kadis", 30)}

DATASETS = [
    ("dinas-kesehatan", "jumlah-puskesmas-2025", "Jumlah Puskesmas per Kecamatan 2025"),
    ("dinas-kesehatan", "cakupan-imunisasi-dasar-2025", "Cakupan Imunisasi Dasar Lengkap 2025"),
    ("dinas-pendidikan", "jumlah-sekolah-jenjang-2025", "Jumlah Sekolah Menurut Jenjang 2025"),
    ("dinas-pendidikan", "angka-partisipasi-sekolah-2024", "Angka Partisipasi Sekolah 2024"),
    ("dinas-pertanian", "produksi-padi-kecamatan-2025", "Produksi Padi per Kecamatan 2025"),
    ("dinas-pertanian", "luas-panen-jagung-2025", "Luas Panen Jagung 2025"),
]


def _exists(action: str, ident: str) -> bool:
    try:
        tk.get_action(action)({"ignore_auth": True}, {"id": ident})
        return True
    except tk.ObjectNotFound:
        return False


def load(site_user: str) -> list[tuple[str, str]]:
    """Create what is missing; return (user name, role) pairs for the login list."""
    ctx: dict[str, Any] = {"user": site_user, "ignore_auth": True}
    logins = [("admin", "sysadmin")]
    if not _exists("user_show", "admin"):
        tk.get_action("user_create")(
            dict(ctx), {"name": "admin", "email": "admin@satudata.test", "password": PASSWORD,
                        "fullname": "Administrator Portal"},
        )
        tk.get_action("user_patch")(dict(ctx), {"id": "admin", "sysadmin": True})

    for name, title, description in ORGANIZATIONS:
        if not _exists("organization_show", name):
            tk.get_action("organization_create")(
                dict(ctx), {"name": name, "title": title, "description": description}
            )

    for name, fullname, rung, membership in USERS:
        position = position_at(rung)
        if not _exists("user_show", name):
            tk.get_action("user_create")(
                dict(ctx),
                {"name": name, "fullname": fullname, "email": f"{name}@satudata.test",
                 "password": PASSWORD},
            )
        if membership:
            org, capacity = membership
            tk.get_action("organization_member_create")(
                dict(ctx), {"id": org, "username": name, "role": capacity}
            )
        if position:
            _assign_position(ctx, name, position)
        logins.append((name, position or (f"admin {membership[0]}" if membership else "pemohon")))

    logins += _front_desk(ctx)

    for org, name, title in DATASETS:
        if not _exists("package_show", name):
            tk.get_action("package_create")(
                dict(ctx),
                {"name": name, "title": title, "owner_org": org, "license_id": "cc-by",
                 "notes": f"{title}. Sumber: {org}.",
                 "resources": [{"name": f"{title} (CSV)", "format": "CSV",
                                "url": f"http://127.0.0.1:5000/contoh/{name}.csv"}]},
            )
    return logins


def _front_desk(ctx: dict[str, Any]) -> list[tuple[str, str]]:
    """The front-desk officer and two requests they registered (when the workflow has a
    front desk; registered once)."""
    from werkzeug.datastructures import FileStorage

    from ckanext.statrequest import settings
    from ckanext.statrequest.documents.samples import pdf_bytes

    position = settings.workflow().front_desk_position
    if position is None:
        return []
    name, fullname = DESK_USER
    if not _exists("user_show", name):
        tk.get_action("user_create")(dict(ctx), {
            "name": name, "fullname": fullname, "email": f"{name}@satudata.test",
            "password": PASSWORD})
    tk.get_action("organization_member_create")(
        dict(ctx), {"id": "diskominfo", "username": name, "role": "member"})
    _assign_position(ctx, name, position)
    desk: dict[str, Any] = {"user": name}
    if tk.get_action("statrequest_register_list")(dict(desk), {"channel": "surat"})["count"]:
        return [(name, position)]
    today = dt.date.today()
    for number, request in enumerate(DESK_REQUESTS, 1):
        files = {kind: FileStorage(io.BytesIO(pdf_bytes(f"{label} {number}")), f"{kind}.pdf")
                 for kind, label in (("identity_document", "KTP"),
                                     ("request_letter", "Surat permohonan"))}
        letter = {"sender_letter_date": today.isoformat()} if request["channel"] == "surat" else {}
        tk.get_action("statrequest_register")(
            dict(desk), {**request, **letter, **files, "received_on": today.isoformat()})
    return [(name, position)]


def position_at(rung: int | None) -> str | None:
    """The position on a rung of the chain from the assignee position up (see USERS)."""
    from ckanext.statrequest import settings

    wf = settings.workflow()
    if rung is None or wf.assignee_position is None:
        return None
    chain = [wf.assignee_position, *wf.escalation_chain(wf.assignee_position)]
    index = rung if rung >= 0 else len(chain) + rung
    below = [r for _, _, r, _ in USERS if r is not None and r >= 0]
    if not 0 <= index < len(chain) or (rung < 0 and index in below):
        return None  # this workflow's chain has no such rung (e.g. no Secretary)
    return chain[index]


def _assign_position(ctx: dict[str, Any], user: str, position: str) -> None:
    """Give the user the position unless an assignment is already in force."""
    try:
        action = tk.get_action("statrequest_position_list")
    except KeyError:  # the positions API is not loaded (older config)
        return
    current = action(dict(ctx), {"position": position, "include_inactive": True})
    if any(a["user_name"] == user and not a["revoked"] for a in current):
        return
    data = {"position": position, "user": user, "nip": NIPS.get(user, ""),
            "rank": RANKS.get(user, "")}
    if user in ACTING:
        kind, for_whom, days = ACTING[user]
        today = dt.date.today()
        data.update(kind=kind, stands_in_for=for_whom, valid_from=today.isoformat(),
                    valid_to=(today + dt.timedelta(days=days)).isoformat())
    tk.get_action("statrequest_position_assign")(dict(ctx), data)
