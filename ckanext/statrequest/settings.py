"""Typed access to the extension's configuration, and the objects built from it.

The workflow and calendar are domain objects from `core/`; this module only feeds them
what the portal configured (and the holidays its administrators entered).
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import ckan.model as model
import ckantoolkit as tk
from sqlalchemy import select

from ckanext.statrequest.core import workflow as wf
from ckanext.statrequest.core.calendar import WorkingCalendar

PREFIX = "ckanext.statrequest."


def get(name: str) -> Any:
    """One of our options (``ckanext.statrequest.<name>``), typed and defaulted by its
    declaration."""
    return tk.config.get(PREFIX + name)


def core(name: str) -> Any:
    """One of CKAN's own options (``ckan.site_url``, ``smtp.server``...)."""
    return tk.config.get(name)


def sla_days() -> int:
    return int(get("sla_days"))


def due_soon_days() -> int:
    return int(get("due_soon_days"))


def max_file_size() -> int:
    return int(get("max_file_size_mb")) * 1024 * 1024


def diskominfo_org() -> str:
    return get("diskominfo_org")


def position_min_capacity() -> str:
    return get("position_min_capacity")


def file_storage() -> str:
    """The CKAN file storage for attachments: ours if configured, else the portal default."""
    name = get("file_storage")
    from ckan.lib import files

    if name and name in files.storages:
        return name
    return tk.config.get("ckan.files.default_storages.default")


def office_hours() -> tuple[dt.time, dt.time]:
    start, end = str(get("office_hours")).split("-")
    return dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())


@lru_cache(maxsize=4)
def _load_workflow(path: str) -> wf.Workflow:
    return wf.Workflow.from_yaml(path) if path else wf.load_default()


def workflow() -> wf.Workflow:
    """The active workflow: the configured replacement file, or the default SOP."""
    return _load_workflow(get("workflow_file") or "")


def calendar() -> WorkingCalendar:
    """The working-day calendar with the holidays the administrators added.

    Built per call (a small query): several web and worker processes must all see a
    holiday as soon as it is added.
    """
    from ckanext.statrequest.model import Holiday

    start, end = office_hours()
    rows = model.Session.execute(select(Holiday.day, Holiday.name, Holiday.kind)).all()
    extra = {r.day: r.name for r in rows if r.kind != "hari_kerja"}
    working = [r.day for r in rows if r.kind == "hari_kerja"]
    return WorkingCalendar(
        tz=get("timezone"), office_start=start, office_end=end,
        extra_holidays=extra, extra_working_days=working,
    )
