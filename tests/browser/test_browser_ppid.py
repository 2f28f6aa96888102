"""The second regency's workflow (workflows/ppid_desk.yaml, with its letterhead from
workflows/ppid_desk.ini) walked through the pages in Chromium, from the PPID desk to the
requester's download of the reply signed "a.n. Kepala Dinas". Every step is read from the
workflow (its main path, who holds each step, what it requires), as in
tests/logic/test_two_workflows.py; the server runs `ckan run` with that workflow configured."""
from __future__ import annotations

import configparser
import os

import pytest

from browser.chromium import BASE, PORT, ROOT, login, running_portal, shot

pytestmark = [pytest.mark.usefixtures("with_plugins"), pytest.mark.browser]

WORKFLOWS = os.path.join(ROOT, "ckanext", "statrequest", "workflows")


@pytest.fixture(scope="module")
def server():
    """`ckan run` with the PPID desk's workflow and letterhead (browser.ini plus
    workflows/ppid_desk.ini)."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(os.path.join(WORKFLOWS, "ppid_desk.ini"), encoding="utf-8")
    lines = [f"{k} = {v}" for k, v in ini["app:main"].items()
             if k.startswith("ckanext.statrequest.letter.")]
    path = os.path.join(ROOT, ".run", f"browser-ppid-{PORT}.ini")
    with open(path, "w", encoding="utf-8") as f:
        f.write("[DEFAULT]\ndebug = false\n\n[app:main]\n"
                f"use = config:{os.path.join(ROOT, 'tests', 'browser', 'browser.ini')}\n"
                f"ckanext.statrequest.workflow_file = {os.path.join(WORKFLOWS, 'ppid_desk.yaml')}\n"
                + "\n".join(lines) + "\n")
    with running_portal(path, "browser-ppid-server") as base:
        yield base


def _fill(form, t, tmp_path) -> None:
    from support import PASSPHRASE

    for req in t.requires:
        if req.kind == "note":
            form.locator("textarea[name=note]").fill(f"Catatan untuk {t.label.id}.")
        elif req.kind == "instruction":
            form.locator("textarea[name=instruction]").fill("Mohon ditindaklanjuti.")
        elif req.kind == "assignee":
            form.locator("select[name=assignee]").select_option("staf1")
        elif req.kind == "opd":
            form.locator("select[name=opd]").select_option(label="Dinas Kesehatan")
        elif req.kind == "outcome":
            form.locator("select[name=outcome]").select_option("dipenuhi")
        elif req.kind == "files":
            form.locator("input[name=result]").set_input_files(str(tmp_path / "hasil.csv"))
        elif req.kind == "signature":
            form.locator("input[name=passphrase]").fill(PASSPHRASE)


@pytest.mark.usefixtures("test_pki")
@pytest.mark.parametrize("regency", ["ppid_desk"], indirect=True)
def test_the_ppid_desk_workflow_through_the_pages(regency, server, browser, office, tmp_path):
    from support import pdf_text, person_for, submit

    from ckanext.statrequest import settings
    from ckanext.statrequest.lib import letters

    wf = settings.workflow()
    number = submit()["tracking_number"]
    (tmp_path / "hasil.csv").write_bytes(b"kecamatan,sekolah\nDelta Pawan,41\n")
    path = wf.main_path()
    page = None
    for state, nxt in zip(path, path[1:], strict=False):
        (t,) = [t for t in wf.outgoing(state) if t.target == nxt and not t.stays
                and t.outcome is None and t.sla != "pause"][:1]
        page = login(browser, person_for(office, t.actor))
        page.goto(BASE + f"/permintaan-data/{number}")
        # the holder reads the officials' text of the state the request is in
        assert wf.state(state).label_for("official", "id") in page.inner_text("#state-label")
        form = page.locator(f"form[data-transition={t.name}]")
        _fill(form, t, tmp_path)
        form.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator(".invalid-feedback").count() == 0, page.inner_text("#actions")
        if nxt != path[-1]:
            page.close()
    assert wf.state(path[-1]).label_for("official", "id") in page.inner_text("#state-label")

    requester = login(browser, "pemohon1")
    requester.goto(BASE + f"/permintaan-data/{number}")
    shot(requester, "ppid-06-finished")
    assert wf.state(path[-1]).label.id in requester.inner_text("#state-label")
    assert "hasil.csv" in requester.inner_text("#downloads")  # the OPD's data, and the reply
    with requester.expect_download() as download:
        requester.locator("#downloads a", has_text="surat-balasan").click()
    with open(download.value.path(), "rb") as f:
        text = pdf_text(f.read())
    behalf = letters.position_title(wf.letter_on_behalf_of())
    assert f"a.n. {behalf}" in text
    assert "PEMERINTAH KABUPATEN CONTOH" in text
    assert letters.position_title(wf.paraf_positions()[0]) in text
