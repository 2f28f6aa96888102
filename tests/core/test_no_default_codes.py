"""No state, transition or position code of the default workflow is written in the extension's
Python or templates (issue #12): letters, pages and auth read them from the active workflow,
so a regency's own file (e.g. workflows/ppid_desk.yaml) works without a code change.

Python is read with `ast`: every string constant that is not a docstring (comments are not in
the tree) and equals a code is a hit. Templates: every quoted string equal to a code. A few
literals of OTHER vocabularies happen to be spelled like a workflow code; they are allowed by
file, each with its reason (ALLOWED). Never add a workflow code used as a workflow code there.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from ckanext.statrequest.core import workflow as wflib

PACKAGE = Path(wflib.__file__).resolve().parents[1]

# (file relative to the package, literal): why it is not the workflow's code
_COMPLAINTS = "complaint status (model.feedback.COMPLAINT_STATES: diterima/ditanggapi/selesai)"
ALLOWED: dict[tuple[str, str], str] = {
    ("model/feedback.py", "selesai"): _COMPLAINTS,
    ("views/feedback.py", "selesai"): _COMPLAINTS,
    ("logic/action/feedback.py", "selesai"): _COMPLAINTS,
    ("logic/action/stats.py", "selesai"): _COMPLAINTS,  # complaint counts by status
    ("lib/notifications.py", "selesai"): _COMPLAINTS,  # the complaint's closing mail
    ("templates/statrequest/feedback/complaint_list.html", "selesai"): _COMPLAINTS,
    # the demo's login "sekretaris" (a user name, with its NIP and rank by user name); its
    # position is read from the workflow (demo.position_at)
    ("lib/demo.py", "sekretaris"): "a demo user name (login), not the position",
}


def default_codes() -> set[str]:
    data = yaml.safe_load(wflib.DEFAULT_PATH.read_text(encoding="utf-8"))
    return ({*data["states"]} | {t["name"] for t in data["transitions"]}
            | {p["code"] for p in data["positions"]})


def python_hits(source: str, codes: set[str]) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return sorted((node.lineno, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and id(node) not in docstrings and node.value in codes)


_QUOTED = re.compile(r"""'([a-z_]+)'|"([a-z_]+)\"""")


def template_hits(source: str, codes: set[str]) -> list[tuple[int, str]]:
    return [(source.count("\n", 0, m.start()) + 1, word)
            for m in _QUOTED.finditer(source) for word in [m.group(1) or m.group(2)]
            if word in codes]


def _files() -> list[Path]:
    skip = {"i18n"}
    return sorted(p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".html")
                  and not skip & set(p.relative_to(PACKAGE).parts))


def test_no_default_workflow_code_outside_the_workflow_file():
    codes = default_codes()
    found = []
    for path in _files():
        rel = str(path.relative_to(PACKAGE))
        text = path.read_text(encoding="utf-8")
        hits = python_hits(text, codes) if path.suffix == ".py" else template_hits(text, codes)
        found += [f"{rel}:{line}: {word!r}" for line, word in hits
                  if (rel, word) not in ALLOWED]
    assert not found, "default workflow codes written in code:\n" + "\n".join(found)


def test_the_allow_list_holds_no_code_that_is_not_there():
    """Each allowed literal is still in its file (a stale entry would hide a new hit)."""
    codes = default_codes()
    for (rel, word), why in ALLOWED.items():
        assert why and word in codes
        text = (PACKAGE / rel).read_text(encoding="utf-8")
        hits = python_hits(text, codes) if rel.endswith(".py") else template_hits(text, codes)
        assert word in [w for _, w in hits], (rel, word)


def test_the_scan_finds_a_planted_code_and_ignores_docstrings_and_comments():
    codes = default_codes()
    source = ('"""The sekretaris checks."""\n# tandatangani\n'
              'def f(state):\n    """selesai"""\n    return state == "perlu_perbaikan"\n')
    assert python_hits(source, codes) == [(5, "perlu_perbaikan")]
    assert python_hits('x = f"{a}kepala_dinas"\n', codes) == [(1, "kepala_dinas")]
    assert template_hits("{% if req.state == 'selesai' %}\n{{ 'diajukan' }}", codes) == [
        (1, "selesai"), (2, "diajukan")]
    assert template_hits("<p>yang diajukan melalui</p>", codes) == []
