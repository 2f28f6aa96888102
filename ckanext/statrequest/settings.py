"""The one reader of configuration: typed access to the extension's options and CKAN's, and
the objects built from them.

Every option is declared in config_declaration.yaml; nothing else in the package reads
`tk.config` (the plugin only wires). The workflow and calendar are domain objects from
`core/`; this module only feeds them what the portal configured (and the holidays its
administrators entered).
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import column, select, table

from ckanext.statrequest.core import vocabulary
from ckanext.statrequest.core import workflow as wf
from ckanext.statrequest.core.calendar import WorkingCalendar

PREFIX = "ckanext.statrequest."


def get(name: str, default: Any = None) -> Any:
    """One of our options (``ckanext.statrequest.<name>``), typed and defaulted by its
    declaration; with ``default``, an option set to nothing ("") counts as unset."""
    # an explicit default skips CKAN's "is it declared?" check, a linear walk over every
    # declared option (~30 µs; a list page asks ~160 times); the value is the same (the
    # declared defaults are in the config once CKAN loaded it), and tests/test_settings.py
    # checks that every name this code asks for is declared
    value = tk.config.get(PREFIX + name, None)
    return default if default is not None and value in (None, "") else value


def dynamic(name: str, default: Any = None) -> Any:
    """An option under a declared pattern (``letter.title.<position>``,
    ``signing.<position>.<option>``), or ``default`` when unset or empty. Looked up without
    `config.get`, which would warn "not declared" on each call for an unset one."""
    key = PREFIX + name
    value = tk.config[key] if key in tk.config else None  # noqa: SIM401
    return default if value in (None, "") else value


def core(name: str) -> Any:
    """One of CKAN's own options (``ckan.site_url``, ``smtp.server``...)."""
    return tk.config.get(name, None)  # as in get(): no walk over the declarations


CKAN_ROUTE_AFTER_LOGIN = "dashboard.datasets"  # CKAN's own default of the option below


def claim_route_after_login(endpoint: str) -> None:
    """Send users to ``endpoint`` after they log in or register (CKAN's
    ``ckan.auth.route_after_login``), unless the portal chose a route of its own."""
    if core("ckan.auth.route_after_login") in (None, "", CKAN_ROUTE_AFTER_LOGIN):
        tk.config["ckan.auth.route_after_login"] = endpoint


def claim_no_gravatar() -> None:
    """No Gravatar pictures unless the portal asks for them (``ckan.gravatar_default``): they
    send a hash of each user's email to a third party, and a government network that blocks
    it shows a broken image on every page. CKAN's own placeholder picture is shown instead."""
    if core("ckan.gravatar_default") in (None, "", "identicon"):
        tk.config["ckan.gravatar_default"] = "disabled"


def site_url() -> str:
    """The portal's address without a trailing slash: links in emails, letters and jobs are
    built from it (no web request there)."""
    return str(core("ckan.site_url")).rstrip("/")


def sla_days() -> int:
    return int(get("sla_days"))


def reception_max_backdate_days() -> int:
    """How far back the front desk may date a reception (calendar days)."""
    return int(get("reception.max_backdate_days") or 0)


def ikm_min_respondents() -> int:
    return int(get("ikm_min_respondents") or 30)


def stats_max_age() -> int:
    """Seconds kept statistics may lag behind the event log (0: always exact)."""
    return max(int(get("stats_max_age") or 0), 0)


def complaint_response_days() -> int:
    """Working days within which a complaint is to be answered (at least 1)."""
    return max(int(get("complaint_response_days")), 1)


def due_soon_days() -> int:
    return int(get("due_soon_days"))


def opd_task_days() -> int:
    """Working days an OPD has for its task on a routed request (at least 1)."""
    return max(int(get("opd_task_days")), 1)


def max_file_size() -> int:
    return int(get("max_file_size_mb")) * 1024 * 1024


def diskominfo_org() -> str:
    return get("diskominfo_org")


def opd_organizations() -> list[str]:
    """Names of the organisations that are OPD; empty: every organisation but Diskominfo."""
    return tk.aslist(get("opd_organizations"))


def position_min_capacity() -> str:
    return get("position_min_capacity")


def file_storage() -> str:
    """The CKAN file storage for attachments: ours if configured, else the portal default."""
    name = get("file_storage")
    from ckan.lib import files

    if name and name in files.storages:
        return name
    return core("ckan.files.default_storages.default")


def office_hours() -> tuple[dt.time, dt.time]:
    start, end = str(get("office_hours")).split("-")
    return dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())


def storage_path() -> Path:
    return Path(str(core("ckan.storage_path")))


@lru_cache(maxsize=4)
def _load_workflow(path: str) -> wf.Workflow:
    return wf.Workflow.from_yaml(path) if path else wf.load_default()


def workflow() -> wf.Workflow:
    """The active workflow: the configured replacement file, or the default SOP."""
    return _load_workflow(get("workflow_file") or "")


def check_workflow() -> None:
    """Load the configured workflow once, at start-up: an invalid file stops CKAN with every
    problem listed, instead of failing on the first request that uses it."""
    from ckan.exceptions import CkanConfigurationException

    path = get("workflow_file") or ""
    try:
        _load_workflow(path)
    except wf.WorkflowError as exc:
        raise CkanConfigurationException(
            f"{PREFIX}workflow_file = {path}: {exc}\n"
            f"(`ckan statrequest workflow-check {path}` lists the same problems)") from exc


@lru_cache(maxsize=4)
def _reasons(text: str) -> dict[str, tuple[str, str]]:
    return vocabulary.parse_reasons(text) if text.strip() else dict(vocabulary.REASONS)


def reasons() -> dict[str, tuple[str, str]]:
    """Reasons for a refusal, a partial answer or missing data (code -> Indonesian and
    English label): the configured list, else the default one of `core.vocabulary`."""
    return _reasons(str(get("reasons") or ""))


def check_reasons() -> None:
    """Read the configured reason list once, at start-up: a malformed list stops CKAN with
    every bad line named, instead of failing the first refusal."""
    from ckan.exceptions import CkanConfigurationException

    try:
        reasons()
    except ValueError as exc:
        raise CkanConfigurationException(f"{PREFIX}reasons: {exc}") from exc


def calendar() -> WorkingCalendar:
    """The working-day calendar with the holidays the administrators added.

    Built per call (a small query): several web and worker processes must all see a
    holiday as soon as it is added.
    """
    start, end = office_hours()
    rows = model.Session.execute(_holidays_statement()).all()
    extra = {r.day: r.name for r in rows if r.kind != vocabulary.WORKING_DAY}
    working = [r.day for r in rows if r.kind == vocabulary.WORKING_DAY]
    return WorkingCalendar(
        tz=get("timezone"), office_start=start, office_end=end,
        extra_holidays=extra, extra_working_days=working,
    )


# The holiday table as a bare SQL table (the mapped class lives in model/office.py): the model
# reads the personal-data key through this module, so this module must not import the model.
_HOLIDAYS = table("statrequest_holiday", column("day"), column("name"), column("kind"))


@lru_cache(maxsize=1)  # built once, as model/statements.py's built_once (not imported: a cycle)
def _holidays_statement() -> Any:
    return select(_HOLIDAYS.c.day, _HOLIDAYS.c.name, _HOLIDAYS.c.kind)
