"""Delivery of a finished request as a private dataset, and who may see it."""
from __future__ import annotations

import contextlib
import time
from typing import Any

import ckan.model as model
import ckantoolkit as tk
import pytest
from support import PASSPHRASE, RESULT_NAME, act, as_sysadmin, finished_request, fire, submit

from ckanext.statrequest.lib import delivery
from ckanext.statrequest.model import Attachment, Request

pytestmark = pytest.mark.usefixtures("with_plugins", "test_pki")

# who may read the signed reply and the delivered data: the requester, the OPD that
# answered, and Diskominfo's position holders
READERS = ["pemohon1", "admin-kesehatan", "sekretaris", "kadis", "kabid", "kasi", "staf1", "staf2"]
OUTSIDERS = ["pemohon2", "other", None, "admin-pendidikan"]
STAFF = ["sekretaris", "kadis", "kabid", "kasi", "staf1", "staf2"]  # Diskominfo position holders


@pytest.fixture
def delivered(office) -> dict[str, Any]:
    rid = finished_request(office)
    package_id = delivery.deliver(rid)
    model.Session.remove()
    pkg = as_sysadmin("package_show", id=package_id)
    return {"request_id": rid, "package": pkg, "office": office}


def test_the_dataset_holds_the_signed_reply_and_the_data(delivered):
    pkg = delivered["package"]
    rid = delivered["request_id"]
    request = model.Session.get(Request, rid)
    assert request.delivered_package_id == pkg["id"]
    assert pkg["private"] is True
    assert pkg["organization"]["name"] == "diskominfo"
    assert pkg["name"] == f"permintaan-data-{request.tracking_number.lower()}"
    rows = {a.sha256: a for a in model.Session.query(Attachment).filter_by(request_id=rid)}
    names = [(r["name"], r["url_type"], r["hash"]) for r in pkg["resources"]]
    letter, data = pkg["resources"]
    assert rows[letter["hash"]].kind == "signed_reply"
    assert rows[data["hash"]].kind == "result"
    assert letter["format"].upper() == "PDF" and data["format"].upper() == "CSV", names
    assert all(r["url_type"] == "upload" for r in pkg["resources"])
    assert "/download/" in data["url"]
    assert "plugin_data" not in pkg  # the request link is never shown


def _allowed(user: str | None, action: str, **data: Any) -> bool:
    try:
        act(user, action, **data)
        return True
    except tk.NotAuthorized:
        return False


def _matrix(check) -> tuple[dict, dict]:
    """`check(user)` for every column of §6, and what §6 expects (True for readers)."""
    users = READERS + OUTSIDERS
    return {u: check(u) for u in users}, {u: u in READERS for u in users}


def test_who_may_read_the_dataset_and_its_resources(delivered):
    pkg = delivered["package"]

    def check(user: str | None) -> bool:
        results = {
            _allowed(user, "package_show", id=pkg["id"]),
            _allowed(user, "package_show", id=pkg["name"]),
            _allowed(user, "package_activity_list", id=pkg["id"]),
        }
        for res in pkg["resources"]:
            results.add(_allowed(user, "resource_show", id=res["id"]))
            results.add(_allowed(user, "resource_view_list", id=res["id"]))
        assert len(results) == 1, f"{user}: mixed answers"
        return results.pop()

    got, expected = _matrix(check)
    assert got == expected


def _found(user: str | None, pkg_id: str, **params: Any) -> int:
    return act(user, "package_search", q=f"id:{pkg_id}", **params)["count"]


def test_search_lists_it_only_for_readers_asking_for_private_datasets(delivered):
    pkg = delivered["package"]
    for user in READERS + OUTSIDERS:
        assert _found(user, pkg["id"]) == 0, user  # never in public search, not for readers
        assert pkg["name"] not in act(user, "package_list"), user
    got, expected = _matrix(lambda u: _found(u, pkg["id"], include_private=True) == 1)
    assert got == expected
    # the Diskominfo organisation page lists it to its own members only (CKAN's rule)
    got, _expected = _matrix(lambda u: pkg["id"] in {
        d["id"] for d in act(u, "organization_show", id="diskominfo",
                             include_datasets=True)["packages"]})
    assert got == {u: u in STAFF for u in got}


def _activity_objects(activities: list[dict[str, Any]]) -> set[str]:
    return {a["object_id"] for a in activities}


def test_activity_streams_show_it_only_to_readers(delivered):
    pkg_id = delivered["package"]["id"]
    # The job acts as the site user, whose activity CKAN hides anyway; a portal
    # administrator's later edit makes an activity that the labels alone must hide.
    admin = delivered["office"].sysadmin
    act(admin, "package_patch", id=pkg_id, notes="Catatan tambahan dari admin portal.")
    for user in READERS + OUTSIDERS:
        if user is not None:  # following it must not open a window on it
            with contextlib.suppress(tk.NotAuthorized, tk.ValidationError, tk.ObjectNotFound):
                act(user, "follow_dataset", id=pkg_id)
    for user in READERS + OUTSIDERS:  # CKAN leaves private datasets out of group streams
        assert pkg_id not in _activity_objects(
            act(user, "organization_activity_list", id="diskominfo")), user
    streams = {
        "recently changed": lambda u: act(u, "recently_changed_packages_activity_list"),
        "the administrator's": lambda u: act(u, "user_activity_list", id=admin),
    }
    for name, stream in streams.items():
        got, expected = _matrix(lambda u, stream=stream: pkg_id in _activity_objects(stream(u)))
        assert got == expected, name
    got, expected = _matrix(lambda u: u is not None and pkg_id in _activity_objects(
        act(u, "dashboard_activity_list")))
    assert got == expected
    got, expected = _matrix(lambda u: _allowed(u, "package_activity_list", id=pkg_id) and bool(
        act(u, "package_activity_list", id=pkg_id)))
    assert got == expected


def _stored_bytes(rid: str, kind: str) -> bytes:
    from ckanext.statrequest.lib import attachments

    row = model.Session.query(Attachment).filter_by(request_id=rid, kind=kind,
                                                    deleted_at=None).one()
    return b"".join(attachments.read(row.file_id))


def test_downloads_and_pages_over_http(app, delivered):
    pkg, rid = delivered["package"], delivered["request_id"]
    letter, data = pkg["resources"]
    expected_bytes = {letter["id"]: _stored_bytes(rid, "signed_reply"),
                      data["id"]: _stored_bytes(rid, "result")}
    got: dict[Any, bool] = {}
    for user in READERS + OUTSIDERS:
        app.set_session_user(user)
        answers = set()
        for res in (letter, data):
            url = f"/dataset/{pkg['id']}/resource/{res['id']}/download/{res['url'].rsplit('/', 1)[-1]}"
            response = app.get(url, status=None, follow_redirects=False)
            ok = response.status_code == 200
            if ok:
                assert response.data == expected_bytes[res["id"]], (user, res["name"])
            else:
                assert response.status_code in (403, 404), (user, response.status_code)
            answers.add(ok)
            answers.add(app.get(f"/dataset/{pkg['id']}/resource/{res['id']}",
                                status=None).status_code == 200)
        answers.add(app.get(f"/dataset/{pkg['name']}", status=None).status_code == 200)
        assert len(answers) == 1, f"{user}: mixed answers"
        got[user] = answers.pop()
    assert got == {u: u in READERS for u in got}


def test_the_api_refuses_outsiders_with_a_token(app, delivered):
    pkg = delivered["package"]
    for user, readable in (("other", False), ("admin-pendidikan", False), ("pemohon1", True)):
        token = as_sysadmin("api_token_create", user=user, name="uji")["token"]
        headers = {"Authorization": token}
        shown = app.get("/api/3/action/package_show", query_string={"id": pkg["id"]},
                        headers=headers, status=None)
        assert (shown.status_code == 200) == readable, user
        found = app.get("/api/3/action/package_search", headers=headers, query_string={
            "q": f"id:{pkg['id']}", "include_private": "true"}).json["result"]["count"]
        assert found == (1 if readable else 0), user
        res = app.get("/api/3/action/resource_show", query_string={
            "id": pkg["resources"][0]["id"]}, headers=headers, status=None)
        assert (res.status_code == 200) == readable, user


def test_nobody_but_a_sysadmin_may_change_it(delivered):
    pkg = delivered["package"]
    res_id = pkg["resources"][1]["id"]
    attempts = {
        "package_patch": {"id": pkg["id"], "notes": "diubah"},
        "package_update": {**pkg, "private": False},
        "package_delete": {"id": pkg["id"]},
        "resource_delete": {"id": res_id},
        "resource_patch": {"id": res_id, "name": "lain.csv"},
        "resource_create": {"package_id": pkg["id"], "url": "https://contoh.test/x.csv"},
        "package_owner_org_update": {"id": pkg["id"], "organization_id": "dinas-kesehatan"},
        "bulk_update_public": {"datasets": [pkg["id"]], "org_id": "diskominfo"},
    }
    # kadis is an admin and sekretaris an editor of Diskominfo: CKAN alone would let them
    for user in ("kadis", "sekretaris", "pemohon1", "admin-kesehatan"):
        for action, data in attempts.items():
            with pytest.raises(tk.NotAuthorized):
                act(user, action, **data)
    after = as_sysadmin("package_show", id=pkg["id"])
    assert after["private"] and after["notes"] == pkg["notes"]
    assert [r["id"] for r in after["resources"]] == [r["id"] for r in pkg["resources"]]


def test_other_datasets_keep_ckans_rules(office):
    from ckan.tests import factories

    private = factories.Dataset(owner_org=office.opd["dinas-kesehatan"]["id"], private=True)
    public = factories.Dataset(owner_org=office.opd["dinas-kesehatan"]["id"])
    model.Session.remove()
    assert _allowed("admin-kesehatan", "package_show", id=private["id"])
    for user in ("pemohon1", "admin-pendidikan", None, "sekretaris"):
        assert not _allowed(user, "package_show", id=private["id"]), user
        assert _allowed(user, "package_show", id=public["id"]), user
    assert _found(None, public["id"]) == 1
    assert _found("admin-kesehatan", private["id"], include_private=True) == 1
    assert _found("pemohon1", private["id"], include_private=True) == 0


def test_the_requester_finds_it_on_the_request_page(delivered):
    rid, pkg = delivered["request_id"], delivered["package"]
    for user in ("pemohon1", "sekretaris", "admin-kesehatan"):
        shown = act(user, "statrequest_show", id=rid)
        assert {"id": pkg["id"], "name": pkg["name"], "title": pkg["title"],
                "role": "delivery"} in shown["datasets"], user
    with pytest.raises(tk.NotAuthorized):
        act("admin-pendidikan", "statrequest_show", id=rid)


def _delivery_datasets() -> list[model.Package]:
    return [p for p in model.Session.query(model.Package).all()
            if delivery.request_of(p) is not None]


@pytest.mark.usefixtures("clean_queues")
def test_a_real_worker_delivers_once_however_often_the_job_runs(office):
    from ckan.lib import jobs

    rid = finished_request(office)
    queue = tk.config.get("ckanext.statrequest.delivery.queue")
    delivery.on_transition("tandatangani", request_id=rid)
    delivery.on_transition("tandatangani", request_id=rid)  # a duplicate, as after a retry
    delivery.on_transition("paraf_kabid", request_id=rid)  # not the final signature: ignored
    assert jobs.get_queue(queue).count >= 2
    timings, durations = [], []
    for _run in range(2):
        queued = jobs.get_queue(queue).job_ids
        started = time.perf_counter()
        jobs.Worker([queue]).work(burst=True)
        timings.append(time.perf_counter() - started)
        model.Session.remove()
        done = [jobs.job_from_id(i) for i in queued]
        durations.append([(j.func_name.rsplit(".", 1)[-1],
                           round((j.ended_at - j.started_at).total_seconds(), 2)) for j in done])
        assert jobs.get_queue(queue).failed_job_registry.count == 0
        if _run == 0:
            first = as_sysadmin("package_show", id=delivery.package_id_for(rid))
            delivery.enqueue(rid)
    again = as_sysadmin("package_show", id=first["id"])
    assert [r["id"] for r in again["resources"]] == [r["id"] for r in first["resources"]]
    assert len(again["resources"]) == 2
    assert [p.id for p in _delivery_datasets()] == [first["id"]]
    assert model.Session.get(Request, rid).delivered_package_id == first["id"]
    print(f"\nworker burst runs: {[round(t, 2) for t in timings]} s; "
          f"jobs (function, seconds): {durations}")


def test_a_retry_completes_a_half_done_delivery_and_notifies_once(office):
    rid = finished_request(office)
    received: list[str] = []

    def receiver(sender: str, **kw: Any) -> None:
        received.append(kw["request_id"])

    delivery.delivered.connect(receiver)
    try:
        # a job that died after creating the dataset and the letter's resource
        request = model.Session.get(Request, rid)
        package_id = delivery._ensure_package(request)
        letter = delivery._letter(request)
        delivery._add_resource(package_id, letter, delivery.resource_id_for(letter.id), "Surat")
        model.Session.remove()
        assert len(as_sysadmin("package_show", id=package_id)["resources"]) == 1
        assert model.Session.get(Request, rid).delivered_package_id is None
        assert delivery.pending() == [rid]

        started = time.perf_counter()
        assert delivery.deliver(rid) == package_id
        inline = time.perf_counter() - started
        assert delivery.deliver(rid) == package_id
        # deleted by hand: the next run brings it back, with the same resources
        as_sysadmin("package_delete", id=package_id)
        assert delivery.deliver(rid) == package_id
    finally:
        delivery.delivered.disconnect(receiver)
    model.Session.remove()
    pkg = as_sysadmin("package_show", id=package_id)
    assert pkg["state"] == "active" and len(pkg["resources"]) == 2
    assert received == [rid]
    assert delivery.pending() == []
    print(f"\ninline delivery (completing one resource): {inline:.2f} s")


def test_nothing_is_delivered_before_the_final_signature(office):
    rid = submit()["id"]
    assert delivery.deliver(rid) is None
    assert delivery.pending() == []
    assert _delivery_datasets() == []


def test_a_failing_queue_does_not_undo_the_signature(office, monkeypatch):
    def broken(request_id: str) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(delivery, "enqueue", broken)
    rid = finished_request(office)  # the signal receiver (if wired) must not raise either
    delivery.on_transition("tandatangani", request_id=rid)
    assert as_sysadmin("statrequest_show", id=rid)["state"] == "selesai"
    assert delivery.pending() == [rid]  # found again by `deliver --pending`


@pytest.mark.usefixtures("clean_queues")
def test_the_command_delivers_pending_requests(office, cli):
    from ckan.lib import jobs

    from ckanext.statrequest.cli import statrequest

    rid = finished_request(office)
    tracking = as_sysadmin("statrequest_show", id=rid)["tracking_number"]
    result = cli.invoke(statrequest, ["deliver"])
    assert result.exit_code != 0  # --request or --pending is required
    result = cli.invoke(statrequest, ["deliver", "--pending"])
    assert result.exit_code == 0, result.output
    assert f"{rid}: job" in result.output
    jobs.get_queue(tk.config.get("ckanext.statrequest.delivery.queue")).empty()
    result = cli.invoke(statrequest, ["deliver", "--request", tracking, "--now"])
    assert result.exit_code == 0, result.output
    assert delivery.package_id_for(rid) in result.output
    model.Session.remove()
    result = cli.invoke(statrequest, ["deliver", "--pending", "--now"])
    assert "Nothing to deliver." in result.output


def test_the_opd_may_publish_the_data_openly_with_the_requesters_consent(delivered):
    rid = delivered["request_id"]
    dinkes = delivered["office"].opd["dinas-kesehatan"]
    publish = {"id": rid, "organization": "dinas-kesehatan", "title": "Tenaga kesehatan 2025"}
    with pytest.raises(tk.ValidationError) as err:  # not before the requester agrees
        act(dinkes["admin"], "statrequest_publish_open", **publish)
    assert "consent" in err.value.error_dict
    for user in ("pemohon2", "sekretaris", dinkes["admin"], None):
        assert not _allowed(user, "statrequest_publish_consent", id=rid), user
    given = act("pemohon1", "statrequest_publish_consent", id=rid)
    assert act("pemohon1", "statrequest_publish_consent", id=rid) == given  # once is enough

    for user in ("pemohon1", "sekretaris", "kadis", "admin-pendidikan", "other"):
        assert not _allowed(user, "statrequest_publish_open", **publish), user
    assert not _allowed("admin-pendidikan", "statrequest_publish_open", id=rid,
                        organization="dinas-pendidikan")  # not asked for this request
    first = act(dinkes["admin"], "statrequest_publish_open", **publish)
    again = act(dinkes["admin"], "statrequest_publish_open", **publish)
    assert again == first
    model.Session.remove()
    public = act(None, "package_show", id=first["package_id"])
    assert not public["private"] and public["organization"]["name"] == "dinas-kesehatan"
    assert [r["name"] for r in public["resources"]] == [RESULT_NAME]  # the data, not the letter
    assert _found(None, public["id"]) == 1
    assert delivery.request_of(model.Package.get(public["id"])) is None  # ordinary CKAN rules
    events = [e["transition"] for e in act("pemohon1", "statrequest_event_list", id=rid)]
    assert events[-2:] == ["setuju_publikasi", "terbitkan_terbuka"]


def test_a_refusal_is_delivered_but_never_published(office):
    rid = submit()["id"]
    fire("sekretaris", rid, "tolak", note="Data yang diminta dikecualikan.", reason="pasal17j")
    fire("kabid", rid, "paraf_kabid", passphrase=PASSPHRASE)
    fire("sekretaris", rid, "paraf_sekretaris", passphrase=PASSPHRASE)
    fire("kadis", rid, "tandatangani", passphrase=PASSPHRASE)
    package_id = delivery.deliver(rid)
    model.Session.remove()
    pkg = act("pemohon1", "package_show", id=package_id)
    assert [r["format"] for r in pkg["resources"]] == ["PDF"]  # the signed reply only
    assert not _allowed("pemohon1", "statrequest_publish_consent", id=rid)


def test_two_workers_at_once_make_one_dataset(office):
    import threading

    rid = finished_request(office)
    results: list[str | None] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(delivery.deliver(rid))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            model.Session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert results == [delivery.package_id_for(rid)] * 2
    assert len(as_sysadmin("package_show", id=results[0])["resources"]) == 2
    assert [p.id for p in _delivery_datasets()] == [results[0]]


def test_jobs_write_in_the_portals_language():
    # a worker has no web request; the dataset's texts must still be Indonesian
    with delivery._site_language():
        assert tk._("Fulfilled") == "Dipenuhi"
