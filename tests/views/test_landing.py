"""The landing page of the service: both languages, texts from the configuration, escaping."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize(("path", "texts"), [
    # Indonesian by default
    ("/permintaan-data/", ("Permintaan Data Statistik Sektoral", "5 hari kerja", "Gratis")),
    ("/en/permintaan-data/", ("Request for Sectoral Statistical Data", "5 working days",
                              "Free of charge")),
])
@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_landing_page_in_both_languages(app, path, texts):
    res = app.get(path)
    assert res.status_code == 200
    for text in texts:
        assert text.lower() in res.body.lower(), text


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
