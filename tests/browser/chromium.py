"""Shared by the browser tests: where the portal runs, starting it, how a user logs in, one step
of a workflow through its page, the default workflow's page walk, screenshots."""
from __future__ import annotations

import contextlib
import os
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# a second test set (dev/ports.sh STATREQUEST_TEST_SET) serves its portal on a port of its own
PORT = 5057 + 10 * (int(os.environ.get("STATREQUEST_TEST_SET") or 1) - 1)
BASE = f"http://127.0.0.1:{PORT}"
SHOTS = os.path.join(ROOT, ".run", "screens")
CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


@contextlib.contextmanager
def running_portal(ini: str, log_name: str) -> Iterator[str]:
    """`ckan run` with `ini` in its own process, as a portal runs; yields its base URL once it
    answers and stops it afterwards. The log goes to .run/<log_name>-<port>.log."""
    log_path = os.path.join(ROOT, ".run", f"{log_name}-{PORT}.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [os.path.join(ROOT, ".venv", "bin", "ckan"), "-c", ini,
             "run", "-H", "127.0.0.1", "-p", str(PORT), "--disable-reloader"],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "CKAN_SITE_URL": BASE})
        try:
            for _ in range(120):
                try:
                    urllib.request.urlopen(BASE + "/api/3/action/status_show", timeout=2)  # noqa: S310
                    break
                except OSError:
                    if proc.poll() is not None:
                        raise RuntimeError(f"the CKAN server exited; see {log_path}") from None
                    time.sleep(0.5)
            yield BASE
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def login(browser, user: str, viewport: dict[str, int] | None = None):
    from support import USER_PASSWORD

    page = browser.new_page(viewport=viewport or DESKTOP)
    page.goto(BASE + "/user/login")
    page.fill("#field-login", user)
    page.fill("#field-password", USER_PASSWORD)
    page.press("#field-password", "Enter")
    page.wait_for_load_state()
    return page


def step(browser, user: str, number: str, transition: str,
         fill: Callable | None = None, keep_open: bool = False):
    """`user` opens the request's page, fills the form of `transition` and sends it; the page
    must come back without a field error. Returns the page when `keep_open`."""
    page = login(browser, user)
    page.goto(BASE + f"/permintaan-data/{number}")
    form = page.locator(f"form[data-transition={transition}]")
    if fill:
        fill(form)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".invalid-feedback").count() == 0, page.inner_text("#actions")
    if not keep_open:
        page.close()
        return None
    return page


def walk_to_signature(browser, number: str, result_file: str,
                      before_upload: Callable[[], None] | None = None):
    """The default workflow through its pages, from the Secretary forwarding a submitted request
    to the Head of Agency's signature; returns the signer's page, still open. `before_upload`
    runs once the request waits for Dinas Kesehatan."""
    from support import PASSPHRASE

    step(browser, "sekretaris", number, "teruskan_ke_kadis")
    step(browser, "kadis", number, "disposisi_ke_kabid",
         lambda f: f.locator("textarea[name=instruction]").fill("Mohon ditindaklanjuti."))
    step(browser, "kabid", number, "disposisi_ke_kasi",
         lambda f: f.locator("textarea[name=instruction]").fill("Koordinasikan."))

    def assign(f):
        f.locator("select[name=assignee]").select_option("staf1")
        f.locator("textarea[name=instruction]").fill("Siapkan datanya.")
    step(browser, "kasi", number, "tugaskan_staf", assign)
    step(browser, "staf1", number, "teruskan_ke_opd",
         lambda f: f.locator("select[name=opd]").select_option(label="Dinas Kesehatan"))
    if before_upload:
        before_upload()
    step(browser, "admin-kesehatan", number, "unggah_hasil",
         lambda f: f.locator("input[name=result]").set_input_files(result_file))

    def accept(f):
        f.locator("select[name=outcome]").select_option("dipenuhi")
        f.locator("textarea[name=note]").fill("Data lengkap dan sesuai.")
    step(browser, "staf1", number, "hasil_sesuai", accept)
    step(browser, "kasi", number, "teruskan_ke_kabid")

    def sign(f):
        f.locator("input[name=passphrase]").fill(PASSPHRASE)
    step(browser, "kabid", number, "paraf_kabid", sign)
    step(browser, "sekretaris", number, "paraf_sekretaris", sign)
    return step(browser, "kadis", number, "tandatangani", sign, keep_open=True)


def shot(page, name: str) -> None:
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, name + ".png"), full_page=True)
