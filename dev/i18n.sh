#!/usr/bin/env bash
# Refresh the translation catalogues: extract strings, merge into id and en, compile .mo files,
# and list strings that still lack an Indonesian translation.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
$PY setup.py -q extract_messages >/dev/null 2>&1
$PY setup.py -q update_catalog --no-fuzzy-matching >/dev/null 2>&1
$PY - <<'PY'
# Source strings are English, so the English catalogue copies each source string that has no
# English text of its own; the few Indonesian source strings (brand names) carry their own.
from babel.messages.pofile import read_po, write_po
p = "ckanext/statrequest/i18n/en/LC_MESSAGES/ckanext-statrequest.po"
with open(p, "rb") as f:
    cat = read_po(f)
for m in cat:
    if m.id and not (m.string if isinstance(m.string, str) else all(m.string)):
        m.string = m.id
with open(p, "wb") as f:
    write_po(f, cat, width=100)
PY
$PY setup.py -q compile_catalog >/dev/null 2>&1
$PY - <<'PY'
from babel.messages.pofile import read_po
for lang in ("id", "en"):
    with open(f"ckanext/statrequest/i18n/{lang}/LC_MESSAGES/ckanext-statrequest.po", "rb") as f:
        cat = read_po(f)
    missing = [m.id for m in cat if m.id and not (m.string if isinstance(m.string, str) else all(m.string))]
    print(f"{lang}: {len(cat) - 1} strings, {len(missing)} untranslated")
    for m in missing[:50]:
        print("   ", m)
PY
