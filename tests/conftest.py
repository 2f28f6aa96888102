"""Shared fixtures. Tests run against the real services of dev/services.sh."""
from __future__ import annotations

import os
import types
from typing import Any

import ckan.model as model
import pytest
from support import SIGNERS, TEST_PKI_DIR, USER_PASSWORD, make_office  # noqa: F401 (re-exported)

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
    people = make_office()
    model.Session.remove()
    return people
