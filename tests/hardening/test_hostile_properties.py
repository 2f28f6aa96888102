"""Hostile input, generated: every registered action and every page of the extension gets
huge, negative and overflowing numbers, NUL and control characters, overlong and unusual
unicode, markup, SQL/tsquery/Solr metacharacters, malformed ids and impossible dates in each
of its parameters.

Each call must answer with a 4xx carrying a message (JSON `error` for the API) or with a
normal page/result; never a 5xx. A refused call writes nothing (row counts of the service's
tables and of CKAN's packages and activities are compared), and the next visitor is served:
after every hostile call an anonymous GET of `/` and `/dataset/` must answer 200.
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .conftest import World, footprint
from .test_matrix import ACTIONS, EXTRA_PAGES, PAGES, registered_actions, registered_pages

EXAMPLES_PER_ACTION = 14
EXAMPLES_PER_PAGE = 10
EXECUTED: dict[str, int] = {}

# --- hostile values -----------------------------------------------------------------------

NUMBERS = [10**20, -1, 2**63, -(2**63) - 1, 2**31, 2**64 + 1, -(10**20), 1e308, -0.5]
TEXTS = [
    "\x00", "a\x00b", "\x01\x02\x07\x1b[31m\x7f", "\r\n\t\x0b\x0c", "\u202egnp.exe",
    "\u200f\u05e9\u05dc\u05d5\u05dd", "👍🏽🇮🇩" * 40, "e" + "\u0301" * 300, "\ufeff\ufffe\uffff",
    "\ufffd\U0010ffff",
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{7*7}}${7*7}",
    "' OR 1=1 --", "'; DROP TABLE statrequest_request; --", "a & | ! :*", "!(", ":*", "\\",
    "*:*", "title:* OR id:*", "%00", "%s%s%n", "../../../../etc/passwd", "..%2f..%2f",
    "00000000-0000-0000-0000-00000000000g", "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "PDS-2026-00001'", "PDS-9999999999-99999999999", "ADU-2026-00001\x00",
    "9999-12-31", "0001-01-01", "2026-02-30", "2026-13-45", "99999-01-01", "-2026-01-01",
    "2026-01-01T25:61:61", "1e400", "NaN", "Infinity", "-0", "", " ", "null", "true", "[]",
    "x" * 5000, "é" * 20_000,
]
STRUCTURES: list[Any] = [None, True, [], {}, ["a", {"b": 1}], {"$gt": ""}, [1] * 500,
                         [[[[["deep"]]]]], float("nan"), float("inf")]


def hostile() -> st.SearchStrategy[Any]:
    huge = st.integers(min_value=-(2**80), max_value=2**80).filter(lambda n: n < 0 or n > 2**31)
    dates = st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
                      st.sampled_from([0, 1, 1969, 2026, 9999, 10000]),
                      st.integers(min_value=0, max_value=13), st.integers(min_value=0, max_value=32))
    unusual = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
                      max_size=40)
    controls = st.text(st.characters(min_codepoint=0, max_codepoint=31), min_size=1, max_size=8)
    return st.one_of(st.sampled_from(NUMBERS), huge, huge.map(str), st.sampled_from(TEXTS),
                     dates, unusual, controls.map(lambda c: f"id{c}x"),
                     st.sampled_from(STRUCTURES))


def as_text(value: Any) -> str:
    """How a hostile value travels in a URL or a form field."""
    if isinstance(value, (list, dict)) or value is None or isinstance(value, bool):
        return json.dumps(value)
    return str(value)


HYPOTHESIS = settings(
    deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much])


# --- parameters ---------------------------------------------------------------------------

COMMON = ["id", "limit", "offset", "page", "year", "date_from", "date_to", "created_from",
          "created_to", "q", "tracking_number", "email", "token", "version", "transition", "day",
          "state", "sort", "user", "organization", "kind", "upload", "format", "object_type",
          "capacity"]


def schema_fields() -> dict[str, set[str]]:
    """Field names of each schema function in logic/schema/, by function name."""
    from ckanext.statrequest.logic import schema as schema_pkg

    fields: dict[str, set[str]] = {}
    modules = [schema_pkg] + [importlib.import_module(f"{schema_pkg.__name__}.{info.name}")
                              for info in pkgutil.iter_modules(schema_pkg.__path__)]
    for module in modules:
        for name, fn in vars(module).items():
            if callable(fn) and not name.startswith("_") and getattr(fn, "__module__", "") == \
                    module.__name__:
                try:
                    result = fn()
                except TypeError:
                    continue
                if isinstance(result, dict):
                    fields.setdefault(name.rstrip("_"), set()).update(result)
    return fields


def action_params(action: str, schemas: dict[str, set[str]]) -> list[str]:
    short = action.removeprefix("statrequest_")
    own = schemas.get(short, set())
    if not own and short in {"show", "available_transitions", "event_list", "attachment_show",
                             "attachment_download", "attachment_delete", "position_revoke"}:
        own = schemas.get("by_id", set())
    return sorted(own | set(COMMON))


# which table row gives the base call: a payload that, unchanged, writes nothing
BASE: dict[str, tuple[str, str, str]] = {  # action -> (matrix key, role, state)
    "statrequest_attachment_show": ("statrequest_attachment_show[request_letter]", "sysadmin",
                                    "menunggu_opd"),
    "statrequest_attachment_download": ("statrequest_attachment_download[request_letter]",
                                        "sysadmin", "menunggu_opd"),
    "statrequest_attachment_delete": ("statrequest_attachment_delete", "requester",
                                      "menunggu_opd"),
    "statrequest_publish_consent": ("statrequest_publish_consent", "requester", "menunggu_opd"),
    "statrequest_publish_open": ("statrequest_publish_open", "routed_opd", "selesai"),
    "statrequest_survey_submit": ("statrequest_survey_submit", "requester", "menunggu_opd"),
    "statrequest_verify": ("statrequest_verify", "anonymous", "selesai"),
    "statrequest_track": ("statrequest_track", "anonymous", "menunggu_opd"),
}


def base_of(action: str) -> tuple[str, str, str]:
    return BASE.get(action, (action, "sysadmin", "menunggu_opd"))


# --- the properties -----------------------------------------------------------------------

def _healthy(world: World) -> str | None:
    """Another visitor right after: the portal still answers."""
    for path in ("/", "/dataset/"):
        res = world.page("anonymous", "GET", path)
        if res.status_code != 200:
            return f"next visitor got {res.status_code} on {path}"
    return None


def _api_problem(world: World, action: str, role: str, data: dict[str, Any],
                 files: dict[str, Any] | None) -> str | None:
    before = footprint()
    res = world.api(role, action, data, files)
    status, body = res.status_code, res.get_data(as_text=True)
    if status >= 500:
        return f"{status} (server error): {body[:300]}"
    if 400 <= status < 500:
        error = (res.get_json(silent=True) or {}).get("error")
        if not isinstance(error, dict) or not (error.get("message") or len(error) > 1):
            return f"{status} without an error message: {body[:200]}"
        after = footprint()
        if after != before:
            changed = {k: (before[k], after[k]) for k in after if before.get(k) != after[k]}
            return f"refused ({status}) but wrote {changed}"
    elif status != 200:
        return f"unexpected {status}: {body[:200]}"
    return _healthy(world)


def _run_collecting(name: str, run: Callable[[], None], failures: list[str],
                    seen: list[int], minimum: int) -> None:
    run()
    EXECUTED[name] = len(seen)
    distinct = sorted(set(failures))
    assert not distinct, f"{name}: {len(distinct)} failing hostile inputs " \
        f"(of {len(seen)} tried):\n" + "\n".join(distinct[:25])
    assert len(seen) >= minimum, f"{name}: only {len(seen)} hostile examples ran"


ACTION_NAMES = sorted({key.split("[")[0] for key in ACTIONS})


def test_every_action_is_fuzzed(world):
    missing = sorted(registered_actions() - set(ACTION_NAMES))
    assert not missing, "add " + ", ".join(missing) + " to tests/hardening (matrix and fuzzing)"


@pytest.mark.parametrize("action", ACTION_NAMES)
def test_hostile_action_input(world, action):
    key, role, state = base_of(action)
    rule = ACTIONS[key]
    params = action_params(action, schema_fields())
    failures: list[str] = []
    seen: list[int] = []

    @settings(HYPOTHESIS, max_examples=EXAMPLES_PER_ACTION)
    @given(param=st.sampled_from(params), value=hostile())
    def run(param: str, value: Any) -> None:
        seen.append(1)
        data = dict(rule.data(world, state))
        data[param] = value
        files = rule.files(world, state) if rule.files else None
        try:
            problem = _api_problem(world, action, role, data, files)
        except Exception as exc:  # a crash of the test client is a server failure too
            problem = f"raised {type(exc).__name__}: {exc}"
        if problem:
            failures.append(f"{action} {param}={as_text(value)[:80]!r} as {role}: {problem}")

    _run_collecting(action, run, failures, seen, minimum=EXAMPLES_PER_ACTION // 2)


@pytest.mark.parametrize("data", [
    {"capacity": 10**20}, {"capacity": 5}, {"object_type": ["package"]},
    {"object_type": "package\x00"}, {"id": {"$ne": ""}},
], ids=["huge-capacity", "int-capacity", "list-type", "nul-type", "dict-id"])
def test_member_list_refuses_filters_that_are_not_text(world, data):
    """CKAN's member_list (chained by the extension) compared these with text columns: 500."""
    before = footprint()
    res = world.api("sysadmin", "member_list", {"id": world.delivered["owner_org"],
                                                "object_type": "package", **data})
    assert res.status_code == 409, res.get_data(as_text=True)[:300]
    assert res.get_json()["error"]["__type"] == "Validation Error"
    assert footprint() == before
    assert _healthy(world) is None


@pytest.mark.parametrize("page", ["100000000000000000000", "3307881472261062"])
def test_organisation_page_survives_a_page_number_past_the_end(world, page):
    """The OPD's organisation page (with our tab): CKAN's failed search left the template
    without its facets, a 500 for everyone who followed such a link."""
    for role in ("anonymous", "routed_opd"):
        res = world.page(role, "GET", "/organization/dinas-kesehatan", query={"page": page})
        assert res.status_code == 200, res.status_code
    assert _healthy(world) is None


# --- pages --------------------------------------------------------------------------------

QUERY_ARGS = {
    "statrequest_portal.mine": ["page", "state", "category", "sla", "q", "sort", "organization"],
    "statrequest_portal.inbox": ["page", "state", "q", "sort"],
    "statrequest_portal.all_requests": ["page", "state", "category", "sla", "q", "sort",
                                        "organization", "created_from", "created_to"],
    "statrequest_portal.track": ["nomor", "email"],
    "statrequest_portal.download": ["token"],
    "statrequest_stats.index": ["year", "date_from", "date_to"],
    "statrequest_stats.transparency": ["year", "date_from", "date_to"],
    "statrequest_stats.export": ["year", "date_from", "date_to", "include_personal"],
    "statrequest_feedback.complaints": ["page", "state", "channel"],
    "statrequest_feedback.my_complaints": ["page", "state"],
    "statrequest_reception.register": ["page", "received_from", "received_to", "channel",
                                       "state", "cetak"],
    "statrequest_reception.register_export": ["received_from", "received_to", "channel", "state"],
    "statrequest_feedback.complaint_new": ["permintaan"],
}
FORM_FIELDS = {
    "statrequest_portal.fire": ["transition", "version", "note", "instruction", "assignee", "opd",
                                "outcome", "reason", "dataset", "passphrase"],
    "statrequest_portal.guest_fire": ["transition", "version", "note"],
    "statrequest_portal.correct": ["version", "title", "identity_type", "identity_number",
                                   "email", "phone", "category", "description"],
    "statrequest_portal.guest_correct": ["version", "title"],
    "statrequest_feedback.survey": [f"u{i}" for i in range(1, 10)] + ["comment"],
    "statrequest_admin.assign": ["position", "user", "valid_from", "valid_to", "acting", "nip",
                                 "note"],
    "statrequest_admin.add_holiday": ["day", "name", "kind"],
    "statrequest_admin.set_credential": ["user", "backend", "reference", "key_label",
                                         "cert_label", "certificate"],
    "statrequest_portal.new": ["requester_name", "identity_type", "identity_number", "category",
                               "email", "phone", "title", "description", "purpose", "dataset_ids",
                               "organization_ids", "consent_personal_data", "website"],
    "statrequest_feedback.complaint_new": ["request", "subject", "body"],
    "statrequest_feedback.complaint_respond": ["response", "close"],
    "statrequest_feedback.complaint_record": ["channel", "received_at", "complainant_name",
                                              "complainant_email", "complainant_phone",
                                              "request", "subject", "body"],
    "statrequest_reception.new": ["channel", "received_on", "sender_letter_number",
                                  "sender_letter_date", "requester_name", "identity_type",
                                  "identity_number", "category", "email", "phone", "title",
                                  "description", "purpose", "organization_ids"],
    "statrequest_portal.track": ["nomor", "email"],
    "statrequest_objection.page": ["step", "grounds", "decision", "reason", "passphrase"],
    "statrequest_publication.page": ["step", "organization", "title", "notes", "license_id"],
    "statrequest_opd_tasks.close": ["organization", "reason", "version"],
    "statrequest_verify.check": ["upload"],
    "statrequest_verify.letter": ["upload"],
}
PAGE_ROLE = {("statrequest_feedback.survey", "POST"): "requester"}
PAGE_KEYS = [k for k in {**PAGES, **EXTRA_PAGES} if k[2] in ("", "csv", "request_letter")]


def _template(world: World, endpoint: str, method: str) -> Any:
    for rule in world.app.flask_app.url_map.iter_rules():
        if rule.endpoint == endpoint and method in rule.methods:
            return rule
    raise AssertionError(f"no rule for {method} {endpoint}")


def _fill(rule: Any, args: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        return urllib.parse.quote(as_text(args[match.group(1)]), safe="")
    return re.sub(r"<(?:[^<>]*:)?([a-z_]+)>", one, rule.rule)


def test_every_page_is_fuzzed(world):
    tabled = {(e, m) for e, m, _ in PAGE_KEYS}
    missing = sorted(registered_pages(world) - tabled)
    assert not missing, "add " + ", ".join(f"{m} {e}" for e, m in missing) + " to tests/hardening"


@pytest.mark.parametrize("key", PAGE_KEYS, ids=[f"{m}-{e}" for e, m, _ in PAGE_KEYS])
def test_hostile_page_input(world, key):
    endpoint, method, _ = key
    page = {**PAGES, **EXTRA_PAGES}[key]
    role = PAGE_ROLE.get((endpoint, method), "sysadmin")
    state = "menunggu_opd"
    rule = _template(world, endpoint, method)
    adapter = world.app.flask_app.url_map.bind("test.ckan.net")
    _, path_args = adapter.match(page.path(world, state), method=method)
    params = [f"path:{a}" for a in sorted(rule.arguments)] + \
        [f"query:{a}" for a in QUERY_ARGS.get(endpoint, []) + ["q", "page", "limit"]] + \
        [f"form:{a}" for a in (FORM_FIELDS.get(endpoint, []) if method == "POST" else [])]
    failures: list[str] = []
    seen: list[int] = []

    @settings(HYPOTHESIS, max_examples=EXAMPLES_PER_PAGE)
    @given(param=st.sampled_from(params), value=hostile())
    def run(param: str, value: Any) -> None:
        seen.append(1)
        where, name = param.split(":")
        args = dict(path_args)
        query = dict(page.query(world, state)) if page.query else {}
        data = dict(page.data(world, state)) if method == "POST" else None
        if where == "path":
            args[name] = value
        elif where == "query":
            query[name] = as_text(value)
        else:
            assert data is not None
            data[name] = as_text(value)
        path = _fill(rule, args)
        before = footprint()
        try:
            res = world.page(role, method, path, data, query)
            status = res.status_code
        except Exception as exc:  # the test client re-raises what the app did not handle
            failures.append(f"{method} {path[:120]} {name}={as_text(value)[:60]!r}: raised "
                            f"{type(exc).__name__}: {str(exc)[:200]}")
            return
        problem = None
        if status >= 500:
            problem = f"{status} (server error)"
        elif status not in (200, 302, 303, 400, 403, 404, 405, 409, 410, 413, 414, 422, 429):
            problem = f"unexpected {status}"
        elif status >= 400 or method == "GET":
            after = footprint()
            if after != before:
                changed = {k: (before[k], after[k]) for k in after if before.get(k) != after[k]}
                problem = f"{status} but wrote {changed}"
        problem = problem or _healthy(world)
        if problem:
            failures.append(f"{method} {endpoint} {name}={as_text(value)[:80]!r} as {role}: "
                            f"{problem}")

    _run_collecting(f"{method} {endpoint}", run, failures, seen, minimum=EXAMPLES_PER_PAGE // 2)


def test_hostile_case_count():
    """How many generated hostile calls ran (the file's tests run first, in order)."""
    total = sum(EXECUTED.values())
    print(f"hostile cases executed: {total} over {len(EXECUTED)} actions and pages")
    if len(EXECUTED) >= len(ACTION_NAMES) + len(PAGE_KEYS):
        assert total >= (len(ACTION_NAMES) * EXAMPLES_PER_ACTION
                         + len(PAGE_KEYS) * EXAMPLES_PER_PAGE) // 2
