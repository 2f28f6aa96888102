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


# --- the blank data request form ----------------------------------------------------------------

@pytest.mark.parametrize("prefix,words", [("", "FORMULIR PERMINTAAN DATA"),
                                          ("/en", "DATA REQUEST FORM")])
@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_blank_data_form_is_offered_and_downloads_as_a_pdf(app, prefix, words):
    """Anyone can download the form the request must carry; the landing page and the request
    form link to it; it is a PDF under the letterhead in the page's language."""
    from support import pdf_text

    assert 'id="blank-form-link"' in app.get(prefix + "/permintaan-data/").body
    res = app.get(prefix + "/permintaan-data/formulir")
    assert res.status_code == 200 and res.headers["Content-Type"] == "application/pdf"
    assert "attachment" in res.headers["Content-Disposition"]
    text = pdf_text(res.data)
    assert words in text.upper()
    assert "NIK" in text


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_a_regency_can_offer_its_own_blank_form(app, tmp_path, ckan_config, monkeypatch):
    own = tmp_path / "formulir-ketapang.docx"
    own.write_bytes(b"PK\x03\x04 the regency's own form")
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.data_form_file", str(own))
    res = app.get("/permintaan-data/formulir")
    assert res.status_code == 200 and res.data == own.read_bytes()
    assert 'filename="formulir-ketapang.docx"' in res.headers["Content-Disposition"]
    # a file that went missing falls back to the rendered form, never a broken download
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.data_form_file", str(tmp_path / "gone"))
    res = app.get("/permintaan-data/formulir")
    assert res.status_code == 200 and res.data.startswith(b"%PDF-")
