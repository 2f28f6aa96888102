"""Guest mode: submit without an account, follow the request through a signed link."""
from __future__ import annotations

import ckantoolkit as tk
import pytest
from support import act, request_data

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.mark.ckan_config("ckanext.statrequest.guest_mode", "true")
def test_guest_submits_and_follows_the_request_by_link(office, app):
    created = act(None, "statrequest_create", **request_data(email="tamu@example.test"))
    assert created["requester_id"] is None
    token = created["guest_link"].rsplit("/", 1)[1]
    shown = act(None, "statrequest_show", id=created["id"], token=token)
    assert shown["identity_number"] == "6104012345678901"
    page = app.get(f"/permintaan-data/tamu/{token}")
    assert created["tracking_number"] in page.body
    # a guest may withdraw their own request
    done = act(None, "statrequest_transition", id=created["id"], transition="batalkan", version=1,
               token=token)
    assert done["state"] == "dibatalkan"


@pytest.mark.ckan_config("ckanext.statrequest.guest_mode", "true")
def test_forged_or_foreign_tokens_open_nothing(office, app):
    first = act(None, "statrequest_create", **request_data())
    second = act(None, "statrequest_create", **request_data(title="Permintaan lain"))
    token = first["guest_link"].rsplit("/", 1)[1]
    with pytest.raises(tk.NotAuthorized):
        act(None, "statrequest_show", id=second["id"], token=token)
    with pytest.raises(tk.NotAuthorized):
        act(None, "statrequest_show", id=first["id"], token=token[:-2] + "xx")
    assert app.get(f"/permintaan-data/tamu/{token[:-2]}xx", status=404)
    # a token never opens a request of a registered user
    mine = act("pemohon1", "statrequest_create", **request_data())
    with pytest.raises(tk.NotAuthorized):
        act(None, "statrequest_show", id=mine["id"], token=token)


def test_without_guest_mode_links_are_dead(office, app):
    with pytest.raises(tk.NotAuthorized):
        act(None, "statrequest_create", **request_data())
    assert app.get("/permintaan-data/tamu/abc", status=404)


@pytest.mark.ckan_config("ckanext.statrequest.guest_mode", "true")
def test_links_of_the_first_untimed_format_count_as_expired(office, app):
    from itsdangerous import URLSafeSerializer

    from ckanext.statrequest.lib import guest

    created = act(None, "statrequest_create", **request_data())
    old = URLSafeSerializer(tk.config["SECRET_KEY"], salt=guest.SALT).dumps(created["id"])
    assert guest.check(old) == (guest.Status.EXPIRED, None)
    with pytest.raises(tk.NotAuthorized):
        act(None, "statrequest_show", id=created["id"], token=old)
    page = app.get(f"/en/permintaan-data/tamu/{old}", status=410)
    assert "This link has expired" in page.body and "/en/permintaan-data/lacak" in page.body
    # the link a guest gets carries its issue time and works
    token = created["guest_link"].rsplit("/", 1)[1]
    assert guest.check(token) == (guest.Status.VALID, created["id"])
