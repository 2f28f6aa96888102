"""The extension's own actions, named once, by feature.

Each name is an action in ``logic/action/<feature>.py`` and, under the same name, the auth
function that decides who may call it in ``logic/auth/<feature>.py``; both registries
(`logic.action.get_actions`, `logic.auth.get_auth_functions`) are built from this list, so
neither module repeats it. What a module registers beyond its feature's actions (CKAN functions
it chains, the rights of pages) it lists in its own ``__all__``.
"""
from __future__ import annotations

ACTIONS: dict[str, tuple[str, ...]] = {
    # submit, read, transition, files, positions, holidays, workflow, tracking
    "request": (
        "statrequest_create",
        "statrequest_show",
        "statrequest_list",
        "statrequest_transition",
        "statrequest_update",
        "statrequest_available_transitions",
        "statrequest_event_list",
        "statrequest_attachment_create",
        "statrequest_attachment_show",
        "statrequest_attachment_delete",
        "statrequest_attachment_download",
        "statrequest_position_assign",
        "statrequest_position_revoke",
        "statrequest_position_list",
        "statrequest_holiday_create",
        "statrequest_holiday_delete",
        "statrequest_holiday_list",
        "statrequest_workflow_show",
        "statrequest_override",
        "statrequest_track",
    ),
    # the front desk (requests received by letter, email, in person) and the register
    "reception": ("statrequest_register", "statrequest_register_list",
                  "statrequest_register_export"),
    # the email outbox, SLA reminders, purges, the identity-access log
    "operations": (
        "statrequest_notifications_flush",
        "statrequest_sla_check",
        "statrequest_digest",
        "statrequest_purge_spam",
        "statrequest_purge_personal_data",
        "statrequest_identity_access_list",
    ),
    # letter verification, open publication of delivered data
    "delivery": ("statrequest_verify", "statrequest_publish_consent", "statrequest_publish_open",
                 "statrequest_publication_show"),
    # signing credentials
    "signing": ("statrequest_credential_set", "statrequest_credential_list",
                "statrequest_credential_revoke"),
    # survey and complaints
    "feedback": (
        "statrequest_survey_submit",
        "statrequest_survey_show",
        "statrequest_complaint_create",
        "statrequest_complaint_record",
        "statrequest_complaint_show",
        "statrequest_complaint_list",
        "statrequest_complaint_respond",
    ),
    # objections (keberatan) against an answer, decided by a signed letter
    "objection": ("statrequest_objection_create", "statrequest_objection_decide",
                  "statrequest_objection_show", "statrequest_objection_list"),
    # the OPD tasks of a routed request (one per OPD, parallel)
    "opd": ("statrequest_opd_task_close",),
    # figures, the transparency page, exports
    "stats": ("statrequest_stats", "statrequest_stats_public", "statrequest_stats_export"),
}


def registry(modules: dict[str, object]) -> dict[str, object]:
    """Name → function: each feature's actions (by the names above) from its module in
    `modules`, plus every name a module lists in its ``__all__``. A name registered twice
    is a mistake in these lists, refused at start-up rather than silently overridden."""
    if ACTIONS.keys() - modules.keys():
        raise RuntimeError(f"no module for {sorted(ACTIONS.keys() - modules.keys())}")
    found: dict[str, object] = {}
    for feature, module in modules.items():
        for name in (*ACTIONS.get(feature, ()), *getattr(module, "__all__", ())):
            if name in found:
                raise RuntimeError(f"{name} is registered twice (logic/api.py, __all__)")
            found[name] = getattr(module, name)
    return found
