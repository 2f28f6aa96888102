"""Auth functions of the operations actions (their names: `logic.api.ACTIONS["operations"]`;
CKAN lets sysadmins pass all of them)."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest import settings
from ckanext.statrequest.lib import access
from ckanext.statrequest.logic import common

_ = tk._



def _sysadmin_only(context: dict[str, Any], data_dict: dict[str, Any]) -> common.Result:
    return common.refused(_("Only a sysadmin may do this."))


statrequest_notifications_flush = _sysadmin_only
statrequest_sla_check = _sysadmin_only
statrequest_digest = _sysadmin_only
statrequest_purge_spam = _sysadmin_only
statrequest_purge_personal_data = _sysadmin_only


def statrequest_identity_access_list(context: dict[str, Any], data_dict: dict[str, Any]
                                     ) -> common.Result:
    # the position that answers for personal data: the workflow's privacy_position
    privacy = settings.workflow().privacy_position
    if privacy and privacy in access.context_actor(context).positions:
        return common.ok()
    return common.refused(_("Only the Secretary may see who opened identity documents."))
