"""The extension runs on a real CKAN 2.12 stack: PostgreSQL, Solr 9 and Redis."""
from __future__ import annotations

import pytest
from ckan.lib.redis import connect_to_redis
from ckan.tests import factories, helpers


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_dataset_is_found_by_package_search_in_real_solr():
    factories.Dataset(title="Jumlah Penduduk Menurut Kecamatan 2025", name="penduduk-kecamatan")
    result = helpers.call_action("package_search", q="Penduduk Kecamatan")
    assert result["count"] == 1
    assert result["results"][0]["name"] == "penduduk-kecamatan"
    assert helpers.call_action("package_search", q="tidakadasamasekali")["count"] == 0


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_home_and_dataset_pages_answer(app):
    factories.Dataset(title="Produksi Padi")
    assert app.get("/").status_code == 200
    res = app.get("/dataset/")
    assert res.status_code == 200
    assert "Produksi Padi" in res.body


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_redis_is_real():
    conn = connect_to_redis()
    conn.set("statrequest:probe", "ok")
    assert conn.get("statrequest:probe") == b"ok"
    conn.delete("statrequest:probe")
