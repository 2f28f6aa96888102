"""The browser tests' fixtures: one `ckan run` server and one Chromium per module."""
from __future__ import annotations

import os

import pytest

from browser.chromium import CHROMIUM, ROOT, running_portal


@pytest.fixture(scope="module")
def server():
    """`ckan run` in its own process, as a portal runs."""
    with running_portal(os.path.join(ROOT, "tests", "browser", "browser.ini"), "browser-server") as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()
