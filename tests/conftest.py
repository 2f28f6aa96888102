"""Shared fixtures. Tests run against the real services of dev/services.sh."""
from __future__ import annotations

import os
import types
import uuid
from collections.abc import Iterator
from typing import Any

import ckan.model as model
import pytest
from ckan.lib import jobs as ckan_jobs
from support import SIGNERS, TEST_PKI_DIR, USER_PASSWORD, Inbox, free_port, make_office, start_smtp  # noqa: F401

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
def regency(request, ckan_config, monkeypatch):
    """The active workflow, by name: "default", or a test parametrised (indirect) over
    support.SHIPPED_WORKFLOWS; put it before `office`, which makes that workflow's people."""
    from support import use_workflow

    return use_workflow(getattr(request, "param", "default"), ckan_config, monkeypatch)


@pytest.fixture
def office(clean_db, test_pki) -> types.SimpleNamespace:
    """Diskominfo with one user per position (the signing ones with their own signing
    credential), three OPD with an admin each, two requesters, another logged-in user and a
    sysadmin."""
    people = make_office()
    model.Session.remove()
    return people


# --- email: a job queue of the test's own and a real SMTP server ---------------------------------

@pytest.fixture
def queue(ckan_config, monkeypatch) -> Iterator[str]:
    """A job queue of this test's own, emptied afterwards; retries come at once unless a test
    asks for back-off."""
    name = f"statrequest-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.notify.queue", name)
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.notify.retry_intervals", "0 0")
    yield name
    q = ckan_jobs.get_queue(name)
    q.empty()
    for registry in (q.scheduled_job_registry, q.failed_job_registry, q.finished_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)


@pytest.fixture
def mailbox(ckan_config, monkeypatch, queue) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = start_smtp(inbox, free_port())
    monkeypatch.setitem(ckan_config, "smtp.server", f"127.0.0.1:{controller.port}")
    yield inbox
    controller.stop()
