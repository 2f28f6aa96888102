#!/usr/bin/env bash
# `make demo`: install and start the stack, migrate, load demo data, then serve the portal
# at http://127.0.0.1:5000 with one background-job worker. Safe to run again.
#   dev/demo.sh [stop]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN="$ROOT/.run"
INI="$RUN/demo.ini"
CKAN="$ROOT/.venv/bin/ckan"
PORT=${STATREQUEST_DEMO_PORT:-5000}

say() { printf '\033[1m[demo]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[demo] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }

if [ "${1:-}" = stop ]; then
  [ -f "$RUN/worker.pid" ] && kill "$(cat "$RUN/worker.pid")" 2>/dev/null || true
  rm -f "$RUN/worker.pid"; exit 0
fi

bash "$ROOT/dev/services.sh" start
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && die "port $PORT is taken by another program; stop it or set STATREQUEST_DEMO_PORT"

if [ ! -f "$INI" ]; then
  secret=$("$ROOT/.venv/bin/python" -c "import secrets; print(secrets.token_urlsafe(32))")
  sed -e "s|@SECRET@|$secret|" -e "s|@RUN@|$RUN|g" "$ROOT/dev/demo.ini.in" > "$INI"
fi
mkdir -p "$RUN/storage"

say "migrating the database (CKAN core, activity, statrequest)"
"$CKAN" -c "$INI" db upgrade > "$RUN/demo-migrate.log" 2>&1 || die "migration failed; see $RUN/demo-migrate.log"
say "loading demo data"
"$CKAN" -c "$INI" statrequest demo-data --password-file "$RUN/demo-passwords.txt" 2> "$RUN/demo-data.log" \
  || die "loading demo data failed; see $RUN/demo-data.log"

"$CKAN" -c "$INI" statrequest init-test-pki >> "$RUN/demo-data.log" 2>&1 \
  || die "creating the demo signing keys failed; see $RUN/demo-data.log"

if ! { [ -f "$RUN/worker.pid" ] && kill -0 "$(cat "$RUN/worker.pid")" 2>/dev/null; }; then
  nohup "$CKAN" -c "$INI" jobs worker > "$RUN/worker.log" 2>&1 &
  echo $! > "$RUN/worker.pid"
fi
trap 'kill "$(cat "$RUN/worker.pid" 2>/dev/null)" 2>/dev/null; rm -f "$RUN/worker.pid"' EXIT

cat <<TXT

  Portal Satu Data (demo) with ckanext-statrequest
  URL:     http://127.0.0.1:$PORT/   (service page: http://127.0.0.1:$PORT/permintaan-data/)
  Logins (user / password):
$(sed 's/^/    /' "$RUN/demo-passwords.txt")

  Signing passphrase (paraf and signature, demo keys): rahasia-uji
  Stop with Ctrl-C, then 'make stop' to stop PostgreSQL, Redis and Solr.
TXT
exec "$CKAN" -c "$INI" run -H 127.0.0.1 -p "$PORT" --disable-reloader
