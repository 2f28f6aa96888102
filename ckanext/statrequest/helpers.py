"""Template helpers."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk
from babel.dates import format_datetime
from babel.numbers import format_decimal

from ckanext.statrequest import settings
from ckanext.statrequest.core import vocabulary
from ckanext.statrequest.lib import access, attachments, reasons, texts
from ckanext.statrequest.views.common import labels

__all__ = [
    "statrequest_text",
    "statrequest_labels",
    "statrequest_me",
    "statrequest_days",
    "statrequest_count",
    "statrequest_page_url",
    "statrequest_requires_form",
    "statrequest_file_rules",
    "statrequest_initial_state",
    "statrequest_sla_days",
    "statrequest_panel",
    "statrequest_steps_into",
    "statrequest_goes_back",
    "statrequest_resubmits",
    "statrequest_is_opd_member",
    "statrequest_inbox_count",
    "statrequest_datetime",
    "statrequest_survey_open",
    "statrequest_reasons",
    "statrequest_progress",
    "statrequest_checklist",
]


def statrequest_text(section: str) -> str:
    """A landing-page text: the configured override for the user's language, else ours."""
    return texts.landing_text(section, tk.h.lang())


# the code lists templates show, by the name they use
CODE_LISTS = {
    "categories": vocabulary.REQUESTER_CATEGORIES,
    "identity_types": vocabulary.IDENTITY_TYPES,
    "outcomes": vocabulary.OUTCOMES,
    "position_kinds": vocabulary.POSITION_KINDS,
    "holiday_kinds": vocabulary.HOLIDAY_KINDS,
    "credential_backends": vocabulary.CREDENTIAL_BACKENDS,
    "channels": vocabulary.DATA_CHANNELS,
    "reception_channels": vocabulary.RECEPTION_CHANNELS,
}


def statrequest_labels(code_list: str) -> dict[str, str]:
    """A code list (``categories``, ``outcomes``...) with its labels in the user's language,
    in the order users see it."""
    return labels(CODE_LISTS[code_list])


def statrequest_reasons() -> list[tuple[str, str]]:
    """The reasons a refusal or partial answer may give, in the user's language."""
    return reasons.choices("en" if tk.h.lang() == "en" else "id")


def statrequest_me() -> dict[str, bool]:
    """What the current user is for the service (for menus only; actions decide access)."""
    user = tk.current_user
    if not user.is_authenticated:
        return {"logged_in": False, "staff": False, "opd": False, "admin": False,
                "desk": False}
    actor = access.actor_for(user.name)
    desk = settings.workflow().front_desk_position
    return {"logged_in": True, "staff": actor.is_staff, "opd": bool(actor.opd_ids),
            "admin": actor.can_administer, "desk": desk is not None and desk in actor.positions}


def statrequest_inbox_count() -> int | None:
    """How many requests wait for the current user's action (the header's inbox badge);
    None for a visitor. One count query per page, the inbox's own (indexed) one."""
    if not tk.current_user.is_authenticated:
        return None
    try:
        return int(tk.get_action("statrequest_list")(
            {"user": tk.current_user.name}, {"waiting_for_me": True, "limit": 1})["count"])
    except (tk.NotAuthorized, tk.ValidationError):
        return None


def statrequest_is_opd_member(organization_id: str) -> bool:
    user = tk.current_user
    return user.is_authenticated and organization_id in access.actor_for(user.name).opd_ids


def statrequest_days(value: float) -> str:
    """Working days in the user's locale: 2,5 in Indonesian, 2.5 in English."""
    return format_decimal(round(value, 1), locale=tk.h.lang() or "id")


def statrequest_count(result: dict[str, Any]) -> str:
    """A list's total in the user's locale (1.000 / 1,000); "1.000+" when statrequest_list
    stopped counting (count_is_lower_bound), so a broad list never reads every row."""
    text = format_decimal(int(result.get("count") or 0), locale=tk.h.lang() or "id")
    return f"{text}+" if result.get("count_is_lower_bound") else text


def statrequest_page_url(page: int) -> str:
    args: dict[str, Any] = {k: v for k, v in tk.request.args.items() if k != "page"}
    return tk.h.url_for(tk.request.endpoint, page=page, **args)


def statrequest_requires_form() -> bool:
    return tk.asbool(settings.get("require_data_form"))


def statrequest_file_rules(kind: str) -> str:
    """What a file input accepts, told before any error: "Accepted: PDF, JPEG or PNG; at most
    10 MB." (the types of `attachments.ALLOWED`, the size of `max_file_size_mb`)."""
    return tk._("Accepted: %(types)s; at most %(mb)s MB.") % {
        "types": attachments.accepted(kind), "mb": settings.max_file_size() // (1024 * 1024)}


def statrequest_initial_state() -> str:
    return settings.workflow().initial


def statrequest_sla_days() -> int:
    """Working days within which a complete request is answered (for the home page)."""
    return settings.sla_days()


def statrequest_panel(state: str) -> str | None:
    """What the request page shows in a state (its `panel:` in the workflow), or None."""
    found = settings.workflow().states.get(state)
    return found.panel if found else None


def statrequest_steps_into(state: str) -> list[str]:
    """The transitions that lead into a state (the request for changes, for its note)."""
    return list(settings.workflow().steps_into(state))


def statrequest_goes_back(transition: str) -> bool:
    """A return or a refusal: its button is shown as a warning."""
    wf = settings.workflow()
    t = wf.transitions.get(transition)
    return t is not None and wf.goes_back(t)


def statrequest_resubmits(transition: str) -> bool:
    """The requester's resubmission (back to the initial state): new files may come along."""
    from ckanext.statrequest.core.workflow import REQUESTER

    wf = settings.workflow()
    t = wf.transitions.get(transition)
    return t is not None and t.actor == REQUESTER and t.target == wf.initial


def statrequest_datetime(value: str | None) -> str:
    """An instant in the office's time zone, in the user's language: 7 Des 2026 16.00 WIB."""
    if not value:
        return ""
    import datetime as dt
    from zoneinfo import ZoneInfo

    zone = settings.get("timezone")
    instant = dt.datetime.fromisoformat(value).astimezone(ZoneInfo(zone))
    text = format_datetime(instant, "d MMM y HH.mm" if tk.h.lang() != "en" else "d MMM y HH:mm",
                           locale=tk.h.lang() or "id")
    return f"{text} {vocabulary.ZONE_ABBREVIATIONS.get(zone, zone)}"


def statrequest_survey_open(request_id: str) -> bool:
    """Whether the current user may still fill the satisfaction survey of this request."""
    if not tk.current_user.is_authenticated:
        return False
    try:
        shown = tk.get_action("statrequest_survey_show")(
            {"user": tk.current_user.name}, {"id": request_id})
    except (tk.NotAuthorized, tk.ObjectNotFound, tk.ValidationError):
        return False
    return bool(shown.get("may_submit"))


def statrequest_progress(req: dict[str, Any]) -> dict[str, Any] | None:
    """The progress tracker of the request page: the workflow's steps, each done, current or
    to come, what comes next and the expected date. None: the request is off the path (e.g.
    withdrawn), so its state label says all."""
    wf = settings.workflow()
    at = wf.progress_index(req["state"])
    if at is None:
        return None
    language = tk.h.lang()
    steps = wf.progress_steps()
    finished = wf.is_final(req["state"])
    sla = req.get("sla") or {}
    return {
        "steps": [{"label": s.label.get(language),
                   "status": "done" if i < at or (finished and i == at)
                   else "current" if i == at else "todo",
                   "current": i == at} for i, s in enumerate(steps)],
        "next": steps[at + 1].label.get(language) if at + 1 < len(steps) else None,
        "due": None if finished or sla.get("status") == "closed"
        else sla.get("due_at") or req.get("sla_due_at"),
        "paused": bool(sla.get("paused")),
        "finished": finished,
    }


def statrequest_checklist(req: dict[str, Any], transitions: list[dict[str, Any]]
                          ) -> dict[str, Any] | None:
    """The completeness check of a request in the workflow's initial state, for an official
    who may act on it now: each requester document (required or not, as the submission
    requires it), the files present with a preview link, and how the consent was given."""
    from ckanext.statrequest.lib import attachments
    from ckanext.statrequest.views.portal import PREVIEWABLE

    wf = settings.workflow()
    if req["state"] != wf.initial or not statrequest_me()["staff"] \
            or not any(t["actor"] in wf.positions for t in transitions):
        return None
    required = attachments.required_kinds()
    present = req.get("attachments") or []
    items = [{"kind": kind, "required": kind in required,
              "files": [{"id": a["id"], "name": a["name"], "size": a["size"],
                         "preview": a["media_type"] in PREVIEWABLE}
                        for a in present if a["kind"] == kind]}
             for kind in attachments.REQUESTER_KINDS]
    return {"items": items, "complete": all(i["files"] for i in items if i["required"]),
            "consent_on_portal": req.get("channel") == vocabulary.PORTAL_CHANNEL}
