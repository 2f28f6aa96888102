"""Auth functions of the signing-credential actions (their names:
`logic.api.ACTIONS["signing"]`): the portal administrator only."""
from __future__ import annotations

from ckanext.statrequest.logic import common

statrequest_credential_set = common.administrator_only
statrequest_credential_list = common.administrator_only
statrequest_credential_revoke = common.administrator_only
