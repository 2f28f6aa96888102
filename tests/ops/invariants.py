"""Run bench/scale/checker.py's invariant checks on a portal given by its ini (a restored copy),
without a load's acknowledgements: `python tests/ops/invariants.py INI` prints a JSON result.

The checks that compare the database with what a load generator was told (submissions,
acknowledged transitions, the SMTP server's log, Redis) have nothing to compare here; the ones
that prove the data itself are run: files (bytes = recorded SHA-256), event chains, one event
per version, letters (valid, 2 paraf + signature), delivery (dataset and bytes), open requests.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main(ini: str) -> int:
    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(ini))
    with app._wsgi_app.test_request_context():
        from bench.scale.checker import Checker

        checker = Checker({"floors": {}}, [], [])
        checks = [checker.check_files(), checker.check_event_chains(),
                  checker.check_letters(), checker.check_delivery(),
                  checker.check_open_requests()]
        # one event per version (no acknowledgements: only the duplicate query applies)
        top = checker.sql("SELECT coalesce(max(id), 0) AS m FROM statrequest_event")[0].m
        checker.floors = {"event_id": top}
        checks.append(checker.check_transitions_once())
        checker.session.remove()
    print(json.dumps({"ok": all(c.ok for c in checks), "lines": [c.line() for c in checks],
                      "checks": [c.as_dict() for c in checks]}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
