"""Issue 15's journeys in a real browser (CSRF on): a visitor without an account goes from the
home page to a submitted request with no dead end, a form with three problems shows all three at
once and keeps the good uploads, each role lands where its work is, and the requester is mailed
at every public step walked through the pages (read back from a real SMTP server, aiosmtpd)."""
from __future__ import annotations

import re

import pytest
from support import USER_PASSWORD, pdf_bytes, png_bytes, submit

from browser.chromium import BASE, DESKTOP, login, shot, step, walk_to_signature

pytestmark = [pytest.mark.usefixtures("with_plugins"), pytest.mark.browser]

EXE = b"MZ\x90\x00\x03" + b"\x00" * 200


def test_a_visitor_registers_from_the_home_page_and_submits_with_every_error_at_once(
        server, browser, office, tmp_path):
    (tmp_path / "ktp.png").write_bytes(png_bytes())
    (tmp_path / "surat.exe").write_bytes(EXE)
    (tmp_path / "surat.pdf").write_bytes(pdf_bytes())
    (tmp_path / "formulir.pdf").write_bytes(pdf_bytes("Formulir"))
    page = browser.new_page(viewport=DESKTOP)
    page.goto(BASE + "/")
    page.click("#home-start")
    page.wait_for_load_state()
    assert page.url == BASE + "/user/login?came_from=/permintaan-data/baru"
    assert "Belum punya akun?" in page.content()
    page.click("a[href='/user/register']")
    page.wait_for_load_state()
    page.fill("#field-username", "dewi-baru")
    page.fill("#field-fullname", "Dewi Lestari")
    page.fill("#field-email", "dewi.baru@example.test")
    page.fill("#field-password", USER_PASSWORD)
    page.fill("#field-confirm-password", USER_PASSWORD)
    page.click("button[name=save]")
    page.wait_for_load_state()
    assert page.url == BASE + "/permintaan-data/baru"  # straight back to the form

    # three problems: an identity number too short, no title, a program as the letter
    page.fill("#identity_number", "123")
    page.fill("#description", "Jumlah SD negeri dan swasta per kecamatan.")
    page.fill("#purpose", "Perencanaan program")
    page.select_option("#category", "masyarakat_umum")
    page.set_input_files("#identity_document", str(tmp_path / "ktp.png"))
    page.set_input_files("#request_letter", str(tmp_path / "surat.exe"))
    page.set_input_files("#data_form", str(tmp_path / "formulir.pdf"))
    page.check("#consent_personal_data")
    page.click("button[name=save]")
    page.wait_for_load_state()
    summary = page.locator("#form-errors")
    assert summary.locator("li").count() == 3, summary.inner_text()
    for field in ("identity_number", "title", "request_letter"):
        assert summary.locator(f"a[href='#{field}']").count() == 1, field
        assert page.locator(f"#{field}-error").count() == 1, field
    assert "surat.exe" in page.inner_text("#request_letter-error")
    assert "ktp.png" in page.inner_text("#identity_document-kept")  # kept: not chosen again
    assert "formulir.pdf" in page.inner_text("#data_form-kept")
    shot(page, "10-three-errors")

    page.fill("#identity_number", "6104012345678901")
    page.fill("#title", "Jumlah sekolah dasar per kecamatan 2025")
    page.set_input_files("#request_letter", str(tmp_path / "surat.pdf"))
    if not page.is_checked("#consent_personal_data"):
        page.check("#consent_personal_data")
    page.click("button[name=save]")
    page.wait_for_load_state()
    assert re.fullmatch(r"PDS-\d{4}-\d{5}", page.inner_text("#tracking-number"))


@pytest.mark.parametrize(("user", "lands_on"), [
    ("sekretaris", "/permintaan-data/kotak-masuk"),
    ("kadis", "/permintaan-data/kotak-masuk"),
    ("staf1", "/permintaan-data/kotak-masuk"),
    ("admin-kesehatan", "/permintaan-data/kotak-masuk"),  # a request waits for the OPD
    ("pemohon1", "/permintaan-data/saya"),  # their own requests
    ("other", "/dashboard/datasets"),  # nothing of the service yet: CKAN's own dashboard
])
def test_each_role_lands_where_its_work_is(server, browser, office, user, lands_on):
    from support import fire

    request = submit()
    fire("sekretaris", request["id"], "teruskan_ke_kadis")
    fire("kadis", request["id"], "disposisi_ke_kabid", instruction="Mohon ditindaklanjuti.")
    fire("kabid", request["id"], "disposisi_ke_kasi", instruction="Koordinasikan.")
    fire("kasi", request["id"], "tugaskan_staf", assignee="staf1", instruction="Siapkan.")
    fire("staf1", request["id"], "teruskan_ke_opd", opd=[office.opd["dinas-kesehatan"]["id"]])
    page = login(browser, user)
    assert page.url == BASE + lands_on, page.url
    page.close()


@pytest.mark.usefixtures("test_pki")
def test_the_requester_is_mailed_at_every_public_step_walked_through_the_pages(
        server, browser, office, mailbox, queue, tmp_path):
    from support import as_sysadmin, work

    number = submit()["tracking_number"]
    (tmp_path / "hasil.csv").write_bytes(b"kecamatan,sekolah\nDelta Pawan,41\n")
    step(browser, "sekretaris", number, "minta_perbaikan",
         lambda f: f.locator("textarea[name=note]").fill("Surat belum ditandatangani."))
    step(browser, "pemohon1", number, "kirim_ulang")
    walk_to_signature(browser, number, str(tmp_path / "hasil.csv")).close()

    # the portal's server wrote each mail to the outbox with its step; send them all here
    as_sysadmin("statrequest_notifications_flush", min_age_minutes=0)
    work(queue)
    mails = [m for m in mailbox.take() if m["To"].addresses[0].addr_spec == "dewi@example.test"]
    kinds = [m["X-Statrequest-Kind"] for m in mails]
    assert kinds == ["received", "returned", "received", "progress", "finished"], kinds
    assert all(number in m["Subject"] for m in mails)
    assert "Surat belum ditandatangani." in mails[1].get_body(("plain",)).get_content()
    assert f"/permintaan-data/{number}" in mails[-1].get_body(("plain",)).get_content()
