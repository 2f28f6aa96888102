"""The documents package must stay usable without CKAN or Flask (actions and jobs call it)."""

from __future__ import annotations

import subprocess
import sys


def test_no_ckan_or_flask_imports() -> None:
    code = (
        "import sys\n"
        "import ckanext.statrequest.documents.letter, ckanext.statrequest.documents.fields\n"
        "import ckanext.statrequest.documents.signers, ckanext.statrequest.documents.verify\n"
        "import ckanext.statrequest.documents.testpki\n"
        "roots = ('ckan', 'flask', 'ckantoolkit')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in roots)\n"
        "print(','.join(bad))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=60)
    assert res.stdout.strip() == ""


def test_verify_and_signers_do_not_load_weasyprint() -> None:
    # A verification request should not pay for WeasyPrint's import (~0.5 s).
    code = (
        "import sys\n"
        "import ckanext.statrequest.documents.signers, ckanext.statrequest.documents.verify\n"
        "print('weasyprint' in sys.modules)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=60)
    assert res.stdout.strip() == "False"
