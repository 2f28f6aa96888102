"""The portal's cron jobs, in one resident process (a CLI call costs seconds of CPU to load
CKAN, too much to repeat every few seconds on a small machine).

    python -m bench.scale.cron --ini scale.ini

Reads commands on stdin, one per line, and answers one JSON line each on stdout:

    flush MINUTES   what `ckan statrequest notifications-flush --min-age-minutes MINUTES` does
                    (the action statrequest_notifications_flush, as the site user)
    deliver         what `ckan statrequest deliver --pending` does (delivery.pending() and one
                    delivery job each), when the extension has delivery
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def handle(line: str) -> dict[str, Any]:
    import ckan.model as model
    import ckantoolkit as tk

    words = line.split()
    started = time.perf_counter()
    try:
        if words[0] == "flush":
            site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
            result = tk.get_action("statrequest_notifications_flush")(
                {"user": site_user}, {"min_age_minutes": int(words[1]) if len(words) > 1 else 5})
        elif words[0] == "deliver":
            try:
                from ckanext.statrequest.lib import delivery
            except ImportError:
                return {"skipped": "no delivery module"}
            ids = delivery.pending()
            for request_id in ids:
                delivery.enqueue(request_id)
            result = {"enqueued": len(ids)}
        else:
            result = {"error": f"unknown command {words[0]!r}"}
    except Exception as exc:  # noqa: BLE001 - reported to the orchestrator, like cron mail
        model.Session.rollback()
        result = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    finally:
        model.Session.remove()
    return {**result, "seconds": round(time.perf_counter() - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ini", required=True)
    args = parser.parse_args()
    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(args.ini))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        with app._wsgi_app.test_request_context():
            print(json.dumps(handle(line)), flush=True)


if __name__ == "__main__":
    main()
