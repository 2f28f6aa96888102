"""Our migrations create the tables and take them away again."""
from __future__ import annotations

import ckan.model as model
import pytest
from sqlalchemy import inspect


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_migrations_run_forward_and_back(migrate_db_for):
    tables = {"statrequest_request", "statrequest_event", "statrequest_attachment"}
    engine = model.meta.engine
    assert tables <= set(inspect(engine).get_table_names())
    migrate_db_for("statrequest", version="base", forward=False)
    assert not tables & set(inspect(engine).get_table_names())
    migrate_db_for("statrequest", version="head", forward=True)
    assert tables <= set(inspect(engine).get_table_names())
