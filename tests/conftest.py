"""Shared fixtures. Tests run against the real services of dev/services.sh."""
from __future__ import annotations

import os
import types
from typing import Any

import ckan.model as model
import pytest
from ckan.tests import factories
from support import POSITIONS, SIGNERS, TEST_PKI_DIR, as_sysadmin, issue_credentials

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
    """The test PKI (a CA; one PKCS#12 key per signing position for the documents tests and
    one per signing PERSON of `office`), made once and kept in .run/test-pki."""
    from ckanext.statrequest.documents.testpki import DEFAULT_POSITIONS, create_test_pki

    return create_test_pki(TEST_PKI_DIR, positions=DEFAULT_POSITIONS + SIGNERS)


@pytest.fixture
def office(clean_db, test_pki) -> types.SimpleNamespace:
    """Diskominfo with one user per position (the signing ones with their own signing
    credential), three OPD with an admin each, two requesters, another logged-in user and a
    sysadmin."""
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
    issue_credentials(*SIGNERS)
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
