"""The logic layer keeps one copy of what every action and auth function shares: the API's
names, the checks a call goes through, who calls, the request lookup and its guard, the
current time, config reads and code lists (issue #14)."""
from __future__ import annotations

import ast
from pathlib import Path

import ckantoolkit as tk
import pytest
from support import act, as_sysadmin, submit

from ckanext.statrequest.logic import api

pytestmark = pytest.mark.usefixtures("with_plugins")

LOGIC = Path(__file__).resolve().parents[2] / "ckanext" / "statrequest" / "logic"


def _modules() -> dict[str, ast.Module]:
    return {str(p.relative_to(LOGIC)): ast.parse(p.read_text()) for p in LOGIC.rglob("*.py")}


def test_each_name_of_the_api_is_written_once():
    from ckanext.statrequest.logic.action import get_actions
    from ckanext.statrequest.logic.auth import get_auth_functions

    names = [n for feature in api.ACTIONS.values() for n in feature]
    assert len(names) == len(set(names)) == 51
    actions, auths = get_actions(), get_auth_functions()
    assert set(actions) == set(names) | {"member_list"}  # the one CKAN action we chain
    assert set(names) <= set(auths)  # every action has its auth function, of the same name
    for path, tree in _modules().items():
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                    getattr(t, "id", None) == "__all__" for t in node.targets):
                listed = set(ast.literal_eval(node.value))
                assert not listed & set(names), f"{path} repeats names of logic/api.py"


# helpers every action module used to define for itself
COPIES = {"_validate", "_checked", "_now", "_actor", "_get_request", "_request", "_get",
          "find_request", "_user", "_ok", "_no"}


def test_logic_keeps_no_copies_of_shared_helpers():
    for path, tree in _modules().items():
        defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert not defined & COPIES, f"{path} defines {defined & COPIES}"
        source = ast.unparse(tree)
        # the time has one home (model.now), the config is read through settings
        assert "datetime.now" not in source and ".now(dt.timezone.utc)" not in source, path
        assert "tk.config" not in source and "toolkit.config" not in source, path
        assert "PUBLISHABLE_OUTCOMES" not in source, path


def test_auth_functions_refuse_a_reference_with_nul_instead_of_failing(office):
    """A page may hand an auth function what the user typed: a NUL used to reach PostgreSQL
    (a 500); now it names nothing, like any unknown reference."""
    for name in ("statrequest_show", "statrequest_attachment_show",
                 "statrequest_attachment_delete", "statrequest_survey_show",
                 "statrequest_complaint_show", "statrequest_publish_consent"):
        with pytest.raises(tk.NotAuthorized):
            tk.check_access(name, {"user": "pemohon1"}, {"id": "abc\x00def"})


def test_a_request_is_found_by_its_tracking_number_in_any_case(office):
    created = submit()
    number = created["tracking_number"]
    for ref in (created["id"], number, number.lower(), f"  {number}  "):
        assert act("pemohon1", "statrequest_show", id=ref)["id"] == created["id"]
    with pytest.raises(tk.ObjectNotFound):
        act("pemohon1", "statrequest_show", id=number.replace("-", "/"))


def test_tracking_is_by_number_only(office):
    created = submit()
    email = as_sysadmin("statrequest_show", id=created["id"])["email"]
    found = act(None, "statrequest_track", tracking_number=created["tracking_number"].lower(),
                email=email)
    assert found["tracking_number"] == created["tracking_number"]
    with pytest.raises(tk.ObjectNotFound):  # an id is no tracking number, even with the email
        act(None, "statrequest_track", tracking_number=created["id"], email=email)


def test_who_may_answer_complaints_is_one_rule(office):
    complaint = act("pemohon1", "statrequest_complaint_create", subject="Lambat",
                    body="Permintaan saya belum dijawab.")
    # the page's "answer" button and the auth function agree, for each kind of user
    for user, may in (("sekretaris", True), (office.sysadmin, True), ("kadis", False),
                      ("kasi", False)):
        shown = act(user, "statrequest_complaint_show", id=complaint["number"])
        assert shown["may_respond"] is may, user
        if may:
            tk.check_access("statrequest_complaint_respond", {"user": user}, {"id": complaint["id"]})
        else:
            with pytest.raises(tk.NotAuthorized):
                act(user, "statrequest_complaint_respond", id=complaint["id"], response="Ya.")
