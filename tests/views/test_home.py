"""CKAN's home page presents the data request service, and logged-in pages show no picture
from a third party (Gravatar: blocked on government networks, a broken image on every page)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_the_home_page_presents_the_service_with_a_way_in(app):
    body = app.get("/").body
    assert 'id="statrequest-home"' in body
    assert 'href="/permintaan-data/baru"' in body and "/permintaan-data/lacak" in body
    assert "5 hari kerja" in body  # the promise, in Indonesian by default
    assert "Welcome to CKAN" not in body and "placeholder-420x220" not in body


def _without_picture() -> str:
    from ckan.tests import factories

    return factories.User(image_url="")["name"]


def test_logged_in_pages_show_no_gravatar(app):
    app.set_session_user(_without_picture())
    body = app.get("/permintaan-data/").body
    assert "gravatar.com" not in body
    assert "placeholder-user.png" in body  # CKAN's own picture, served by the portal


@pytest.mark.ckan_config("ckan.gravatar_default", "retro")
def test_a_portal_that_chose_gravatar_keeps_it(app):
    app.set_session_user(_without_picture())
    assert "gravatar.com/avatar" in app.get("/permintaan-data/").body
