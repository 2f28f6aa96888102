"""Shared fixtures. Tests run against the real services of dev/services.sh."""
from __future__ import annotations

import os
import types
from typing import Any

import ckan.model as model
import pytest
from ckan.tests import factories
from support import POSITIONS, as_sysadmin

USER_PASSWORD = "Sandi-Uji-2026"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def clean_db(reset_db, migrate_db_for, with_plugins):
    """An empty database with CKAN's, the activity plugin's and our own tables."""
    reset_db()
    migrate_db_for("activity")
    migrate_db_for("statrequest")


@pytest.fixture(scope="session")
def test_pki() -> dict[str, Any]:
    """The test PKI (a CA and one PKCS#12 key per signing position), made once."""
    from ckanext.statrequest.documents.testpki import create_test_pki

    return create_test_pki(os.path.join(HERE, ".run", "test-pki"))


@pytest.fixture
def office(clean_db) -> types.SimpleNamespace:
    """Diskominfo with one user per position, three OPD with an admin each, two requesters,
    another logged-in user and a sysadmin."""
    people = types.SimpleNamespace()
    people.sysadmin = factories.Sysadmin()["name"]
    diskominfo = factories.Organization(name="diskominfo", title="Diskominfo")
    people.diskominfo = diskominfo["id"]
    for name, position in POSITIONS.items():
        factories.User(name=name, fullname=name.title(), password=USER_PASSWORD)
        as_sysadmin("organization_member_create", id="diskominfo", username=name,
                    role="admin" if name == "kadis" else "editor")
        as_sysadmin("statrequest_position_assign", position=position, user=name,
                    nip="19800101200501100" + str(len(name)))
    people.opd = {}
    for slug in ("dinas-kesehatan", "dinas-pendidikan", "dinas-pertanian"):
        org = factories.Organization(name=slug, title=slug.replace("-", " ").title())
        admin = f"admin-{slug.split('-')[1]}"
        factories.User(name=admin, password=USER_PASSWORD)
        as_sysadmin("organization_member_create", id=slug, username=admin, role="admin")
        people.opd[slug] = {"id": org["id"], "admin": admin}
    for name in ("pemohon1", "pemohon2", "other"):
        factories.User(name=name, fullname=name.title(), password=USER_PASSWORD)
    model.Session.remove()
    return people
