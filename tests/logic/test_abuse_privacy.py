"""Spam and abuse (submission limits in Redis, honeypot, spam purge) and privacy (personal data
purge, who opened identity documents), with the access rules of each new action."""
from __future__ import annotations

import datetime as dt
import os
import re

import ckan.model as model
import ckantoolkit as tk
import pytest
from ckan.lib import files
from ckan.lib.redis import connect_to_redis
from freezegun import freeze_time
from sqlalchemy import func, select, update
from support import act, as_sysadmin, fire, request_data, submit

from ckanext.statrequest.cli import statrequest
from ckanext.statrequest.lib import ratelimit
from ckanext.statrequest.lib.notifications import Notification
from ckanext.statrequest.model import Attachment, Event, IdentityAccess, Request

pytestmark = pytest.mark.usefixtures("with_plugins")

NO_LIMITS = {f"ckanext.statrequest.limit.{k}": 0
             for k in ("user_per_hour", "user_per_day", "ip_per_hour", "ip_per_day")}

# the refusal in the portal's language (Indonesian inside a web request) or English
TOO_MANY = re.compile(r"too many requests|terlalu banyak permintaan")


@pytest.fixture
def limits(ckan_config, monkeypatch):
    """Set some limits (the others off) and forget earlier counts of the test addresses."""
    def apply(**values: int) -> None:
        for key, value in NO_LIMITS.items():
            monkeypatch.setitem(ckan_config, key, value)
        for key, value in values.items():
            monkeypatch.setitem(ckan_config, f"ckanext.statrequest.limit.{key}", value)
    conn = connect_to_redis()
    for ip in ("10.20.30.40", "10.20.30.41"):
        conn.delete(ratelimit._key("ip", ip))
    return apply


def footprint() -> tuple[int, int, int, int]:
    count = lambda table: model.Session.scalar(select(func.count()).select_from(table))  # noqa: E731
    return count(Request), count(Event), count(Attachment), count(model.File)


def stored_path(file_id: str) -> str:
    fileobj = model.Session.get(model.File, file_id)
    return os.path.join(files.get_storage(fileobj.storage).settings.path, fileobj.location)


# --- submission limits ---------------------------------------------------------------------------

def test_limit_per_account(office, limits):
    limits(user_per_hour=2)
    submit()
    submit()
    before = footprint()
    with pytest.raises(tk.ValidationError) as err:
        submit()
    assert TOO_MANY.search(str(err.value.error_dict["submission"]))
    assert footprint() == before  # nothing written
    submit("pemohon2")  # another account is not affected
    for _ in range(3):  # officials (who enter requests for walk-in citizens) are not limited
        submit("sekretaris")


def test_limit_windows_slide(office, limits):
    limits(user_per_hour=1, user_per_day=2)
    with freeze_time("2026-12-01 02:00:00"):
        submit()
    with freeze_time("2026-12-01 02:30:00"), pytest.raises(tk.ValidationError) as err:
        submit()
    assert "30 minutes" in str(err.value.error_dict["submission"])
    with freeze_time("2026-12-01 03:01:00"):
        submit()  # the hour has passed
    with freeze_time("2026-12-01 05:00:00"), pytest.raises(tk.ValidationError) as err:
        submit()  # but two a day is the most
    assert "hours" in str(err.value.error_dict["submission"])
    with freeze_time("2026-12-02 02:01:00"):
        submit()


def test_refused_submissions_do_not_count(office, limits):
    limits(user_per_hour=1)
    with pytest.raises(tk.ValidationError):
        submit(title="")  # invalid: rejected by the schema, not by the limit
    submit()


def test_limit_per_ip_address(office, limits, test_request_context):
    limits(ip_per_hour=2)
    with test_request_context(environ_base={"REMOTE_ADDR": "10.20.30.40"}):
        submit("pemohon1")
        submit("pemohon2")
        before = footprint()
        with pytest.raises(tk.ValidationError) as err:
            submit("other")  # a third account from the same address
        assert TOO_MANY.search(str(err.value.error_dict["submission"]))
        assert footprint() == before
    with test_request_context(environ_base={"REMOTE_ADDR": "10.20.30.41"}):
        submit("other")


@pytest.mark.ckan_config("ckanext.statrequest.guest_mode", True)
def test_guests_without_an_account_are_limited_per_ip_address(office, limits, test_request_context):
    limits(ip_per_hour=1, user_per_hour=1)
    with test_request_context(environ_base={"REMOTE_ADDR": "10.20.30.40"}):
        act(None, "statrequest_create", **request_data())
        with pytest.raises(tk.ValidationError) as err:
            act(None, "statrequest_create", **request_data(email="lain@example.test"))
        assert TOO_MANY.search(str(err.value.error_dict["submission"]))
    with test_request_context(environ_base={"REMOTE_ADDR": "10.20.30.41"}):
        act(None, "statrequest_create", **request_data())


@pytest.mark.parametrize("field", ["website", "nickname"])
def test_honeypot_field_refuses_the_submission(office, field, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.honeypot_field", field)
    before = footprint()
    with pytest.raises(tk.ValidationError) as err:
        submit(**{field: "http://murah.example/obat"})
    assert "could not be accepted" in str(err.value.error_dict["submission"])
    assert footprint() == before
    assert submit(**{field: ""})["state"] == "diajukan"  # left empty, as people do


# --- spam purge ----------------------------------------------------------------------------------

def test_purge_spam_deletes_the_users_requests_and_files(office):
    spam = [submit("pemohon1", title=f"Promo {i}")["id"] for i in range(2)]
    keep = submit("pemohon2")["id"]
    file_ids = model.Session.scalars(select(Attachment.file_id).where(
        Attachment.request_id.in_(spam))).all()
    paths = [stored_path(f) for f in file_ids]
    assert len(paths) == 6 and all(os.path.exists(p) for p in paths)

    result = act(office.sysadmin, "statrequest_purge_spam", user="pemohon1")
    assert result["deleted"] == 2 and result["user"] == "pemohon1"
    model.Session.remove()
    assert model.Session.scalar(select(func.count()).select_from(Request).where(
        Request.id.in_(spam))) == 0
    for table in (Event, Attachment, Notification):
        assert model.Session.scalar(select(func.count()).select_from(table).where(
            table.request_id.in_(spam))) == 0
    assert not any(os.path.exists(p) for p in paths)
    assert all(model.Session.get(model.File, f) is None for f in file_ids)
    assert as_sysadmin("statrequest_show", id=keep)["state"] == "diajukan"
    with pytest.raises(tk.ObjectNotFound):
        as_sysadmin("statrequest_show", id=spam[0])
    with pytest.raises(tk.ValidationError):
        act(office.sysadmin, "statrequest_purge_spam", user="tidak-ada")


# --- personal data purge -------------------------------------------------------------------------

def _finished(user: str, days_ago: int) -> str:
    rid = submit(user)["id"]
    fire(user, rid, "batalkan")
    model.Session.execute(update(Request).where(Request.id == rid).values(
        closed_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days_ago)))
    model.Session.commit()
    return rid


def _identity(rid: str) -> Attachment:
    model.Session.remove()
    return model.Session.scalars(select(Attachment).where(
        Attachment.request_id == rid, Attachment.kind == "identity_document")).one()


def test_purge_personal_data_of_finished_requests(office, cli):
    old = _finished("pemohon1", days_ago=400)
    recent = _finished("pemohon2", days_ago=10)
    still_open = submit("pemohon1")["id"]
    old_file = _identity(old).file_id
    path = stored_path(old_file)
    assert os.path.exists(path)

    result = cli.invoke(statrequest, ["purge-personal-data", "--older-than", "365", "--dry-run"])
    assert result.exit_code == 0, result.output
    number = as_sysadmin("statrequest_show", id=old)["tracking_number"]
    assert "Would purge 1 requests" in result.output and number in result.output
    assert os.path.exists(path)

    result = cli.invoke(statrequest, ["purge-personal-data", "--older-than", "365"])
    assert result.exit_code == 0, result.output
    assert "Purged the personal data of 1 requests" in result.output
    doc = _identity(old)
    assert doc.file_id is None and doc.name == "purged" and doc.deleted_at is not None
    assert not os.path.exists(path) and model.Session.get(model.File, old_file) is None
    request = model.Session.get(Request, old)
    assert request.identity_number is None and request.phone == "" and request.address == ""
    assert request.personal_data_purged_at is not None
    # what the anonymous statistics need stays
    assert (request.category, request.state, request.title) == (
        "masyarakat_umum", "dibatalkan", "Jumlah tenaga kesehatan per puskesmas 2025")
    assert model.Session.scalar(select(func.count()).select_from(Notification).where(
        Notification.request_id == old)) == 0
    shown = act("pemohon1", "statrequest_show", id=old)
    assert shown["personal_data_purged"] is True
    assert "identity_document" not in {a["kind"] for a in shown["attachments"]}
    assert "request_letter" in {a["kind"] for a in shown["attachments"]}
    # recent and open requests keep everything
    for rid in (recent, still_open):
        assert _identity(rid).file_id is not None
        assert model.Session.get(Request, rid).identity_number == "6104012345678901"
    # nothing left to do the second time
    result = cli.invoke(statrequest, ["purge-personal-data", "--older-than", "365"])
    assert "Purged the personal data of 0 requests" in result.output


@pytest.mark.ckan_config("ckanext.statrequest.retention_days", 5)
def test_purge_personal_data_default_retention_from_config(office, cli):
    old = _finished("pemohon1", days_ago=6)
    result = cli.invoke(statrequest, ["purge-personal-data"])
    assert result.exit_code == 0, result.output
    assert "finished more than 5 days ago" in result.output
    assert model.Session.get(Request, old).personal_data_purged_at is not None


# --- who opened identity documents -----------------------------------------------------------------

def test_identity_access_list(office):
    rid = submit()["id"]
    identity = next(a for a in act("kasi", "statrequest_show", id=rid)["attachments"]
                    if a["kind"] == "identity_document")
    act("kasi", "statrequest_attachment_download", id=identity["id"])
    act("pemohon1", "statrequest_attachment_download", id=identity["id"])
    listed = act("sekretaris", "statrequest_identity_access_list", id=rid)
    # newest first: the two document downloads, then kasi's view of the full NIK on show
    assert [(e["user_name"], e["kind"]) for e in listed] == [
        ("pemohon1", "document"), ("kasi", "document"), ("kasi", "nik")]
    assert listed[0]["attachment_kind"] == "identity_document"
    number = as_sysadmin("statrequest_show", id=rid)["tracking_number"]
    assert act(office.sysadmin, "statrequest_identity_access_list", id=number) == listed
    for user in ("kadis", "kasi", "pemohon1", "admin-kesehatan", "other", None):
        with pytest.raises(tk.NotAuthorized):
            act(user, "statrequest_identity_access_list", id=rid)
    assert model.Session.scalar(select(func.count()).select_from(IdentityAccess)) == 3


# --- access rules of the operations actions -----------------------------------------------------

@pytest.mark.parametrize("action,data", [
    ("statrequest_notifications_flush", {}),
    ("statrequest_sla_check", {}),
    ("statrequest_digest", {}),
    ("statrequest_purge_spam", {"user": "pemohon2"}),
    ("statrequest_purge_personal_data", {"dry_run": True}),
])
def test_operations_are_for_sysadmins_only(office, action, data):
    # kadis administers the Diskominfo organisation; still not a sysadmin
    for user in ("kadis", "sekretaris", "pemohon1", "admin-kesehatan", None):
        with pytest.raises(tk.NotAuthorized):
            act(user, action, **data)
    assert isinstance(act(office.sysadmin, action, **data), dict)
