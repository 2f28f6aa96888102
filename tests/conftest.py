"""Shared fixtures. Tests run against the real services of dev/services.sh."""
from __future__ import annotations

import pytest


@pytest.fixture
def clean_db(reset_db, migrate_db_for, with_plugins):
    """An empty database with CKAN's, the activity plugin's and our own tables."""
    reset_db()
    migrate_db_for("activity")
    migrate_db_for("statrequest")
