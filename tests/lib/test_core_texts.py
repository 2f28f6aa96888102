"""CKAN's own pages on the requester's journey read in Indonesian: the texts CKAN's catalogue
leaves untranslated are translated in ours (lib/core_texts.py), CKAN still uses every one of
them, and the pages show the translation."""
from __future__ import annotations

import glob
import os

import ckan
import ckanext.activity
import pytest
from babel.messages.extract import extract_from_file, extract_python
from babel.messages.pofile import read_po
from ckan.lib.extract import extract_ckan

from ckanext.statrequest.lib.core_texts import CORE_PLURALS, CORE_TEXTS

CKAN = os.path.dirname(ckan.__file__)
ACTIVITY = os.path.dirname(ckanext.activity.__file__)
CATALOGUE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..",
                         "ckanext/statrequest/i18n/id/LC_MESSAGES/ckanext-statrequest.po")


def _ckan_message_ids() -> set[str]:
    found: set[str] = set()
    templates = glob.glob(f"{CKAN}/templates/**/*.html", recursive=True) + \
        glob.glob(f"{ACTIVITY}/templates/**/*.html", recursive=True)
    for path in templates:
        for _line, message, _comments, _context in extract_from_file(extract_ckan, path):
            found.update([message] if isinstance(message, str) else [m for m in message or () if m])
    for path in glob.glob(f"{CKAN}/views/*.py") + glob.glob(f"{CKAN}/logic/*.py"):
        with open(path, "rb") as source:
            for _line, _func, message, _comments in extract_python(source, ["_", "N_", "gettext"],
                                                                   [], {}):
                found.update([message] if isinstance(message, str) else [m for m in message or () if m])
    return found


def test_ckan_still_uses_every_text_we_translate_for_it():
    unused = (set(CORE_TEXTS) | {t for pair in CORE_PLURALS for t in pair}) - _ckan_message_ids()
    assert not unused, f"CKAN no longer uses these texts (reworded?): {sorted(unused)}"


def test_every_core_text_has_an_indonesian_translation_in_our_catalogue():
    with open(CATALOGUE, "rb") as f:
        catalogue = read_po(f)
    missing = [t for t in CORE_TEXTS if not (catalogue.get(t) and catalogue.get(t).string)]
    assert not missing
    for singular, plural in CORE_PLURALS:  # a plural entry is keyed by its singular
        entry = catalogue.get(singular)
        assert entry and entry.id == (singular, plural) and all(entry.string), singular
        assert all("%(num)d" in form for form in entry.string), entry.string
    # placeholders survive translation, or CKAN's own formatting would break
    for text in CORE_TEXTS:
        for mark in ("%s", "{user}", "{email}", "{tag}", "{value}", "{0}", "%(error_code)s",
                     "{site_title}"):
            assert (mark in text) == (mark in catalogue.get(text).string), (text, mark)


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.ckan_config("ckan.auth.create_user_via_web", True)
def test_the_login_register_and_reset_pages_read_in_indonesian(app):
    login = app.get("/user/login").body
    assert "Belum punya akun?" in login and "Need an Account?" not in login
    assert "Lupa kata sandi?" in login and "Forgotten your password?" not in login
    assert "Ingat saya" in login and "Remember me" not in login
    assert "Langsung ke isi utama" in login  # the skip link of every page
    reset = app.get("/user/reset").body
    assert "Minta atur ulang" in reset and "Request Reset" not in reset
    register = app.get("/user/register").body
    assert "budi@contoh.id" in register and "joe@example.com" not in register
    assert "Mengapa mendaftar?" in register
