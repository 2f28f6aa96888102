"""The browser tests' fixtures: one `ckan run` server and one Chromium per module."""
from __future__ import annotations

import os
import subprocess
import time
import urllib.request

import pytest

from browser.chromium import BASE, CHROMIUM, PORT, ROOT


@pytest.fixture(scope="module")
def server():
    """`ckan run` in its own process, as a portal runs."""
    log = open(os.path.join(ROOT, ".run", f"browser-server-{PORT}.log"), "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [os.path.join(ROOT, ".venv", "bin", "ckan"), "-c",
         os.path.join(ROOT, "tests", "browser", "browser.ini"),
         "run", "-H", "127.0.0.1", "-p", str(PORT), "--disable-reloader"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "CKAN_SITE_URL": BASE})
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(BASE + "/api/3/action/status_show", timeout=2)  # noqa: S310
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("the CKAN server exited; see .run/browser-server-<port>.log") from None
                time.sleep(0.5)
        yield BASE
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()
