"""Who listens to which signal (the plugin's ISignal): after each committed transition the
emails, the submission counts, and the delivery of the signed reply once the final signature
is made; on each download of a delivered file, the no-caching headers."""
from __future__ import annotations

from typing import Any

import ckantoolkit as tk

from ckanext.statrequest.lib import delivery, letters, notifications, ratelimit


def get_subscriptions() -> dict[Any, list[Any]]:
    return {
        letters.transitioned: [
            notifications.on_transitioned,
            {"receiver": ratelimit.on_submitted, "sender": "ajukan"},
            delivery.on_transition,
        ],
        tk.signals.resource_download: [delivery.on_resource_download],
    }
