"""What the commands share."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk


def site_user() -> str:
    """The site user's name: commands act as the portal itself."""
    return tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]


def call(action: str, **data: Any) -> Any:
    """Call an action as the site user, so that its rules apply in one place."""
    return tk.get_action(action)({"user": site_user()}, data)
