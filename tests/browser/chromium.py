"""Shared by the browser tests: where the portal runs, how a user logs in, screenshots."""
from __future__ import annotations

import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# a second test set (dev/ports.sh STATREQUEST_TEST_SET) serves its portal on a port of its own
PORT = 5057 + 10 * (int(os.environ.get("STATREQUEST_TEST_SET") or 1) - 1)
BASE = f"http://127.0.0.1:{PORT}"
SHOTS = os.path.join(ROOT, ".run", "screens")
CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


def login(browser, user: str, viewport: dict[str, int] | None = None):
    from support import USER_PASSWORD

    page = browser.new_page(viewport=viewport or DESKTOP)
    page.goto(BASE + "/user/login")
    page.fill("#field-login", user)
    page.fill("#field-password", USER_PASSWORD)
    page.press("#field-password", "Enter")
    page.wait_for_load_state()
    return page


def shot(page, name: str) -> None:
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, name + ".png"), full_page=True)
