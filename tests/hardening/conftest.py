"""A world built once per test module: the office, one request in each of three states, a
complaint, API tokens, and a logged-in HTTP client per role.

Access and hostile-input suites send thousands of requests at the same data; building the
office for each of them would take hours, so the data is made once and the cases are chosen
so that they never change what the next case sees (stale versions, invalid values, spares).
"""
from __future__ import annotations

import datetime as dt
import types
from collections.abc import Iterator
from typing import Any

import ckan.model as model
import ckan.plugins as plugins
import pytest
from ckan.tests.helpers import _get_test_app
from sqlalchemy import func, select
from support import (
    PASSPHRASE,
    act,
    as_sysadmin,
    fire,
    make_office,
    pdf_bytes,
    submit,
    upload,
)

NIK = "6104012345678901"  # the identity number support.request_data() submits
EMAIL = "dewi@example.test"
STATES = ("diajukan", "menunggu_opd", "selesai")

# role of the access table -> user name (the sysadmin's name is made by the factory)
ROLE_USERS: dict[str, str | None] = {
    "anonymous": None,
    "requester": "pemohon1",
    "other_requester": "pemohon2",
    "routed_opd": "admin-kesehatan",
    "other_opd": "admin-pendidikan",
    "sekretaris": "sekretaris",
    "kepala_dinas": "kadis",
    "kepala_bidang": "kabid",
    "kepala_seksi": "kasi",
    "staf": "staf1",
    "sysadmin": "<sysadmin>",
}
ROLES = tuple(ROLE_USERS)
POSITION_ROLES = frozenset({"sekretaris", "kepala_dinas", "kepala_bidang", "kepala_seksi", "staf"})


def walk_to_opd(rid: str, opd_id: str) -> None:
    fire("sekretaris", rid, "teruskan_ke_kadis")
    fire("kadis", rid, "disposisi_ke_kabid", instruction="Mohon ditindaklanjuti.")
    fire("kabid", rid, "disposisi_ke_kasi", instruction="Koordinasikan dengan Dinkes.")
    fire("kasi", rid, "tugaskan_staf", assignee="staf1", instruction="Siapkan datanya.")
    fire("staf1", rid, "teruskan_ke_opd", opd=[opd_id])


def walk_to_end(rid: str, opd_admin: str, opd_id: str) -> None:
    """From the OPD to the Head of Agency's signature (the test PKI signs)."""
    fire(opd_admin, rid, "unggah_hasil",
         result=upload("nakes-2025.csv", b"puskesmas,dokter,bidan\nKetapang,4,12\n"))
    fire("staf1", rid, "hasil_sesuai", outcome="dipenuhi", note="Data sesuai permintaan.")
    fire("kasi", rid, "teruskan_ke_kabid")
    fire("kabid", rid, "paraf_kabid", passphrase=PASSPHRASE)
    fire("sekretaris", rid, "paraf_sekretaris", passphrase=PASSPHRASE)
    fire("kadis", rid, "tandatangani", passphrase=PASSPHRASE)


def spare_attachment(rid: str, user: str) -> str:
    """A file the requester added that no step refers to: a target that may be deleted."""
    from ckanext.statrequest.lib import attachments
    from ckanext.statrequest.model import Attachment, new_id

    written = attachments.Written()
    prepared = attachments.prepare("request_letter", upload("cadangan.pdf", pdf_bytes("Cadangan")))
    file_id = attachments.store(prepared, rid, written, user)
    row = Attachment(id=new_id(), request_id=rid, kind="request_letter", file_id=file_id,
                     name=prepared.name, size=len(prepared.content),
                     media_type=prepared.media_type, sha256=prepared.sha256,
                     uploaded_by=model.User.get(user).id, created_at=dt.datetime.now(dt.timezone.utc))
    model.Session.add(row)
    model.Session.commit()
    return row.id


def footprint() -> dict[str, int]:
    """Row counts of every table a request, a complaint or a delivery writes to.

    Left out: the audit log of who was shown personal data (statrequest_identity_access),
    which a permitted read rightly writes to."""
    from ckanext.statrequest import model as srmodel
    from ckanext.statrequest.lib.notifications import Notification
    from ckanext.statrequest.model import feedback as feedback_model

    tables: dict[str, Any] = {
        "package": model.Package, "resource": model.Resource, "member": model.Member,
        "group": model.Group, "user": model.User, "file": model.File,
    }
    for module in (srmodel, feedback_model):
        for name in dir(module):
            cls = getattr(module, name)
            if isinstance(cls, type) and hasattr(cls, "__table__") and \
                    getattr(cls, "__module__", "") == module.__name__:
                tables[cls.__tablename__] = cls
    tables["notification"] = Notification
    tables.pop("statrequest_identity_access", None)
    counts = {name: model.Session.scalar(select(func.count()).select_from(cls))
              for name, cls in sorted(tables.items())}
    counts["activity"] = model.Session.execute(
        __import__("sqlalchemy").text("SELECT count(*) FROM activity")).scalar_one()
    # a version or state moved without a new row still counts as a write
    from ckanext.statrequest.model import Request
    counts["request_versions"] = int(model.Session.scalar(
        select(func.coalesce(func.sum(Request.version), 0))) or 0)
    model.Session.remove()
    return counts


class World(types.SimpleNamespace):
    """What the suites need: ids per state, tokens and clients per role."""

    def user(self, role: str) -> str | None:
        name = ROLE_USERS[role]
        return self.office.sysadmin if name == "<sysadmin>" else name

    def api(self, role: str, action: str, data: dict[str, Any] | None = None,
            files: dict[str, Any] | None = None) -> Any:
        """POST to the action API with the role's API token (anonymous: no token)."""
        headers = {"Authorization": self.tokens[role]} if self.tokens.get(role) else {}
        client = self.app.flask_app.test_client()
        url = f"/api/3/action/{action}"
        if files:
            return client.post(url, data={**(data or {}), **files}, headers=headers,
                               content_type="multipart/form-data")
        return client.post(url, json=data or {}, headers=headers)

    def page(self, role: str, method: str, path: str, data: dict[str, Any] | None = None,
             query: dict[str, Any] | None = None) -> Any:
        """A page as the role, logged in with the session cookie like a browser."""
        user = self.user(role)
        client = self.app.test_client(user=model.User.get(user) if user else None)
        if method == "GET":
            return client.get(path, query_string=query or {})
        return client.post(path, data=data or {}, query_string=query or {})


@pytest.fixture(scope="module")
def world(reset_db, migrate_db_for, test_pki) -> Iterator[World]:
    """The office, one request per state of STATES, a complaint, tokens; made once."""
    app = _get_test_app()  # loads the configured plugins (activity statrequest)
    plugins.load_all()
    reset_db()
    migrate_db_for("activity")
    migrate_db_for("statrequest")
    with app.flask_app.test_request_context():
        office = make_office()
        dinkes = office.opd["dinas-kesehatan"]
        ids: dict[str, str] = {}
        ids["diajukan"] = submit()["id"]
        ids["menunggu_opd"] = submit()["id"]
        walk_to_opd(ids["menunggu_opd"], dinkes["id"])
        ids["selesai"] = submit()["id"]
        walk_to_opd(ids["selesai"], dinkes["id"])
        walk_to_end(ids["selesai"], dinkes["admin"], dinkes["id"])
        from ckanext.statrequest.lib import delivery

        package_id = delivery.deliver(ids["selesai"])  # the job, run here rather than by a worker
        assert package_id, "the finished request was not delivered"
        package = model.Session.get(model.Package, package_id)
        delivered = {"id": package_id, "owner_org": package.owner_org,
                     "resource": model.Session.scalars(select(model.Resource.id).where(
                         model.Resource.package_id == package_id)).first()}
        shown = {s: as_sysadmin("statrequest_show", id=rid) for s, rid in ids.items()}
        for state, request in shown.items():
            assert request["state"] == state, (state, request["state"])
        attachments = {s: {} for s in STATES}
        for state, request in shown.items():
            for a in request["attachments"]:
                attachments[state].setdefault(a["kind"], a["id"])
        spares = {s: spare_attachment(rid, "pemohon1") for s, rid in ids.items()}
        complaint = act("pemohon1", "statrequest_complaint_create", subject="Lambat",
                        body="Permintaan saya belum dijawab.")
        from ckanext.statrequest.model import Request

        codes = {s: model.Session.get(Request, rid).verification_code for s, rid in ids.items()}
        tokens: dict[str, str | None] = {"anonymous": None}
        w = World(app=app, office=office, ids=ids, attachments=attachments, spares=spares,
                  tracking={s: r["tracking_number"] for s, r in shown.items()},
                  complaint=complaint, codes=codes, tokens=tokens, dinkes=dinkes,
                  delivered=delivered)
        for role in ROLES[1:]:
            tokens[role] = as_sysadmin("api_token_create", user=w.user(role),
                                       name="hardening")["token"]
    model.Session.remove()
    yield w
    model.Session.remove()
    plugins.unload_all()
