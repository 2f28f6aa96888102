"""The portal in a real browser: headless Debian Chromium driven by Playwright, against a
CKAN server running the extension on loopback (CSRF on, real PostgreSQL, Solr, Redis)."""
from __future__ import annotations

import re

import pytest
from support import pdf_bytes, png_bytes

from browser.chromium import BASE, login, shot, walk_to_signature

pytestmark = [pytest.mark.usefixtures("with_plugins"), pytest.mark.browser]

def fill_request(page, tmp_path, nik: str) -> None:
    (tmp_path / "ktp.png").write_bytes(png_bytes())
    (tmp_path / "surat.pdf").write_bytes(pdf_bytes())
    (tmp_path / "formulir.pdf").write_bytes(pdf_bytes("Formulir"))
    page.fill("#identity_number", nik)
    page.fill("#title", "Jumlah sekolah dasar per kecamatan 2025")
    page.fill("#description", "Jumlah SD negeri dan swasta per kecamatan.")
    page.fill("#purpose", "Perencanaan program CSR")
    page.select_option("#category", "dunia_usaha")
    page.set_input_files("#identity_document", str(tmp_path / "ktp.png"))
    page.set_input_files("#request_letter", str(tmp_path / "surat.pdf"))
    page.set_input_files("#data_form", str(tmp_path / "formulir.pdf"))
    page.check("#consent_personal_data")


def test_request_from_submission_to_the_secretary(server, browser, office, tmp_path):
    page = login(browser, "pemohon1")
    page.goto(BASE + "/permintaan-data/baru")
    email = page.input_value("#email")
    assert email  # prefilled from the profile
    fill_request(page, tmp_path, nik="123")
    page.click("button[name=save]")
    # the error stands beside the field, in Indonesian, and what was typed is kept
    assert "16 digit" in page.inner_text("#identity_number-error")
    assert page.input_value("#title") == "Jumlah sekolah dasar per kecamatan 2025"
    shot(page, "01-form-error")
    fill_request(page, tmp_path, nik="6104012345678901")
    page.click("button[name=save]")
    number = page.inner_text("#tracking-number")
    assert re.fullmatch(r"PDS-\d{4}-\d{5}", number)
    shot(page, "02-submitted")

    anonymous = browser.new_page()
    # the form is posted: the email never appears in the address
    anonymous.goto(BASE + "/permintaan-data/lacak")
    anonymous.fill("#nomor", number)
    anonymous.fill("#email", "orang.lain@example.com")
    anonymous.click("#track-form button[type=submit]")
    assert anonymous.locator("#track-result").count() == 0
    anonymous.fill("#nomor", number)
    anonymous.fill("#email", email)
    anonymous.click("#track-form button[type=submit]")
    assert "Diajukan" in anonymous.inner_text("#track-result")
    assert "email" not in anonymous.url and "@" not in anonymous.url
    assert "6104" not in anonymous.content()  # the state only

    staff = login(browser, "sekretaris")
    staff.goto(BASE + "/permintaan-data/kotak-masuk")
    assert number in staff.inner_text("table")
    shot(staff, "03-inbox")
    staff.click(f"text={number}")
    assert staff.inner_text("#identity-number") == "6104012345678901"
    staff.click("form[data-transition=teruskan_ke_kadis] button[type=submit]")
    assert "disposisi" in staff.inner_text("#state-label").lower()
    shot(staff, "04-forwarded")

    # the requester sees the new state but not the internal step's actor details
    page.goto(BASE + f"/permintaan-data/{number}")
    assert page.locator("#timeline li").count() >= 2


def test_action_needs_its_inputs_and_keeps_the_request(server, browser, office, tmp_path):
    from support import submit

    number = submit()["tracking_number"]
    page = login(browser, "sekretaris")
    page.goto(BASE + f"/permintaan-data/{number}")
    page.click("form[data-transition=minta_perbaikan] button[type=submit]")
    form = page.locator("form[data-transition=minta_perbaikan]")
    assert form.locator(".invalid-feedback").count() == 1
    assert "diajukan" in page.inner_text("#state-label").lower()


def test_english_pages(server, browser, office):
    page = login(browser, "pemohon2")
    page.goto(BASE + "/en/permintaan-data/baru")
    assert "Submit a data request" in page.inner_text("h1")
    assert "Free of charge" in page.content()
    page.goto(BASE + "/permintaan-data/baru")
    assert "Ajukan permintaan data" in page.inner_text("h1")


def test_outsider_cannot_open_a_request_page(server, browser, office):
    from support import submit

    number = submit()["tracking_number"]
    page = login(browser, "pemohon2")
    response = page.goto(BASE + f"/permintaan-data/{number}")
    assert response.status == 403
    anonymous = browser.new_page()
    assert anonymous.goto(BASE + f"/permintaan-data/{number}").status == 403


@pytest.mark.usefixtures("test_pki")
def test_every_step_through_the_pages_until_the_requester_downloads(server, browser, office,
                                                                    tmp_path):
    from support import submit

    number = submit()["tracking_number"]
    (tmp_path / "hasil.csv").write_bytes(b"kecamatan,sekolah\nDelta Pawan,41\n")

    def opd_sees_its_task():
        opd = login(browser, "admin-kesehatan")
        opd.goto(BASE + "/organization/dinas-kesehatan")
        opd.click("a[href='/permintaan-data/opd/dinas-kesehatan']")
        assert number in opd.inner_text("table")
        shot(opd, "05-opd-tab")
    page = walk_to_signature(browser, number, str(tmp_path / "hasil.csv"), opd_sees_its_task)
    assert "Selesai" in page.inner_text("#state-label")

    requester = login(browser, "pemohon1")
    requester.goto(BASE + f"/permintaan-data/{number}")
    shot(requester, "06-finished")
    links = requester.locator("#downloads a")
    assert links.count() == 2
    with requester.expect_download() as download:
        requester.locator("#downloads a", has_text="surat-balasan").click()
    with open(download.value.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"


def test_a_visitor_reaches_the_form_through_the_login_and_each_role_lands_on_its_work(
        server, browser, office):
    """Issue 15: no dead end from the landing page; officials land on their inbox."""
    from support import USER_PASSWORD

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(BASE + "/permintaan-data/")
    page.click(".statrequest-cta a[href='/permintaan-data/baru']")
    page.wait_for_load_state()
    assert page.url == BASE + "/user/login?came_from=/permintaan-data/baru"
    assert "untuk mengajukan permintaan data" in page.content()
    page.fill("#field-login", "pemohon2")
    page.fill("#field-password", USER_PASSWORD)
    page.press("#field-password", "Enter")
    page.wait_for_load_state()
    assert page.url == BASE + "/permintaan-data/baru"
    assert "Ajukan permintaan data" in page.inner_text("h1")
    official = login(browser, "sekretaris")
    assert official.url == BASE + "/permintaan-data/kotak-masuk"


def test_withdrawing_a_request_asks_first(server, browser, office):
    from support import submit

    number = submit()["tracking_number"]
    page = login(browser, "pemohon1")
    page.goto(BASE + f"/permintaan-data/{number}")
    button = page.locator("form[data-transition=batalkan] button[type=submit]")
    button.click()
    dialog = page.locator("#ckan-confirm-modal")
    dialog.wait_for(state="visible")
    assert "tidak dapat diurungkan" in dialog.inner_text()
    shot(page, "07-confirm-withdrawal")
    dialog.locator("#ckan-confirm-cancel").click()
    dialog.wait_for(state="detached")
    assert "Diajukan" in page.inner_text("#state-label")  # nothing was sent
    button.click()
    page.locator("#ckan-confirm-modal").wait_for(state="visible")
    with page.expect_navigation():
        page.locator("#ckan-confirm-yes").click()
    assert "Dibatalkan" in page.inner_text("#state-label")
