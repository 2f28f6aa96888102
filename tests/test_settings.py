"""Every option the code reads is declared (settings.get skips CKAN's own check for speed)."""
from __future__ import annotations

import re
from pathlib import Path

from ckan.config.declaration import Declaration, Key

from ckanext.statrequest import settings

PACKAGE = Path(settings.__file__).parent
# settings.get("x") / settings.core("x") anywhere; get("x") / core("x") inside settings.py
READS = re.compile(r"""settings\.(get|core)\(\s*["']([\w.]+)["']""")
INSIDE = re.compile(r"""(?<![\w.])(get|core)\(\s*["']([\w.]+)["']""")


def _read_names() -> set[tuple[str, str]]:
    names = set()
    for path in PACKAGE.rglob("*.py"):
        pattern = INSIDE if path.name == "settings.py" else READS
        names.update(pattern.findall(path.read_text(encoding="utf-8")))
    return names


def test_every_option_the_code_reads_is_declared(ckan_config):
    declaration = Declaration()  # CKAN's options and our plugin's
    declaration.load_core_declaration()
    declaration.load_plugin("statrequest")
    names = _read_names()
    ours = {n for kind, n in names if kind == "get" and not n.startswith(("ckan.", "smtp."))}
    assert {"timezone", "sla_days", "notify.batch_size"} <= ours  # the scan finds them
    undeclared = sorted(n for n in ours if Key.from_string(settings.PREFIX + n)
                        not in declaration)
    assert undeclared == []
    core = sorted(n for kind, n in names if kind == "core"
                  and Key.from_string(n) not in declaration)
    assert core == []
