#!/usr/bin/env bash
# `make test`: lint, then the whole suite against the services that dev/services.sh started.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=dev/ports.sh
. "$ROOT/dev/ports.sh"
export_test_urls
mkdir -p .run/test-storage
.venv/bin/ruff check .
.venv/bin/lint-imports --no-cache   # the layer contracts of .importlinter
.venv/bin/ckan -c test.ini db upgrade > .run/test-migrate.log 2>&1 || { cat .run/test-migrate.log; exit 1; }
exec .venv/bin/pytest "$@"
