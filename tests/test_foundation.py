"""The extension runs on a real CKAN 2.12 stack: PostgreSQL, Solr 9 and Redis."""
from __future__ import annotations

import ckan.model as model
import pytest
from ckan.lib.redis import connect_to_redis
from ckan.tests import factories, helpers
from sqlalchemy import inspect


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


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_landing_page_in_indonesian_by_default(app):
    res = app.get("/permintaan-data/")
    assert res.status_code == 200
    assert "Permintaan Data Statistik Sektoral" in res.body
    assert "hari kerja" in res.body
    assert "gratis" in res.body.lower()


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_landing_page_in_english(app):
    res = app.get("/en/permintaan-data/")
    assert res.status_code == 200
    assert "Request for Sectoral Statistical Data" in res.body
    assert "5 working days" in res.body
    assert "Free of charge" in res.body


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_main_navigation_links_to_the_service(app):
    res = app.get("/")
    assert 'href="/permintaan-data/"' in res.body
    assert "Permintaan Data" in res.body


@pytest.mark.usefixtures("with_plugins", "clean_db")
@pytest.mark.ckan_config("ckanext.statrequest.text.intro", "Layanan data Kabupaten Contoh.")
@pytest.mark.ckan_config("ckanext.statrequest.text.intro.en", "Data service of Example Regency.")
def test_landing_texts_are_overridable_per_language(app):
    assert "Layanan data Kabupaten Contoh." in app.get("/permintaan-data/").body
    assert "Data service of Example Regency." in app.get("/en/permintaan-data/").body


@pytest.mark.usefixtures("with_plugins", "clean_db")
@pytest.mark.ckan_config("ckanext.statrequest.text.intro", "<script>alert(1)</script>")
def test_landing_text_override_is_escaped(app):
    body = app.get("/permintaan-data/").body
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


@pytest.mark.usefixtures("with_plugins", "clean_db")
@pytest.mark.ckan_config("ckanext.statrequest.sla_days", "7")
def test_sla_days_come_from_config(app):
    assert "7 working days" in app.get("/en/permintaan-data/").body


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_migrations_run_forward_and_back(migrate_db_for):
    tables = {"statrequest_request", "statrequest_event", "statrequest_attachment"}
    engine = model.meta.engine
    assert tables <= set(inspect(engine).get_table_names())
    migrate_db_for("statrequest", version="base", forward=False)
    assert not tables & set(inspect(engine).get_table_names())
    migrate_db_for("statrequest", version="head", forward=True)
    assert tables <= set(inspect(engine).get_table_names())
