#!/usr/bin/env bash
# `make demo`: install and start the stack, migrate, load demo data, then serve the portal
# at http://127.0.0.1:5000 with one background-job worker. Safe to run again.
#   dev/demo.sh [stop]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN="$ROOT/.run"
INI="$RUN/demo.ini"
CKAN="$ROOT/.venv/bin/ckan"
# shellcheck source=dev/ports.sh
. "$ROOT/dev/ports.sh"
PORT=$DEMO_PORT

say() { printf '\033[1m[demo]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[demo] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }

if [ "${1:-}" = stop ]; then
  [ -f "$RUN/worker.pid" ] && kill "$(cat "$RUN/worker.pid")" 2>/dev/null || true
  rm -f "$RUN/worker.pid"; exit 0
fi

bash "$ROOT/dev/services.sh" start
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && die "port $PORT is taken by another program; stop it or set STATREQUEST_DEMO_PORT"

# Secrets are made once and kept; the ini is written anew on every start so that the port
# variables always reach it.
if [ ! -f "$RUN/demo-secrets.env" ]; then
  "$ROOT/.venv/bin/python" - > "$RUN/demo-secrets.env" <<'PY'
import base64, os, secrets
print("SECRET=" + secrets.token_urlsafe(32))
print("PERSONAL_DATA_KEY=" + base64.b64encode(os.urandom(32)).decode())
PY
  chmod 600 "$RUN/demo-secrets.env"
fi
# shellcheck disable=SC1091
. "$RUN/demo-secrets.env"
if [ -z "${PERSONAL_DATA_KEY:-}" ]; then  # secrets kept from before identity numbers were encrypted
  PERSONAL_DATA_KEY=$("$ROOT/.venv/bin/python" -c "import os, base64; print(base64.b64encode(os.urandom(32)).decode())")
  echo "PERSONAL_DATA_KEY=$PERSONAL_DATA_KEY" >> "$RUN/demo-secrets.env"
fi
sed -e "s|@SECRET@|$SECRET|" -e "s|@PERSONAL_DATA_KEY@|$PERSONAL_DATA_KEY|" -e "s|@RUN@|$RUN|g" \
    -e "s|@PG_PORT@|$PG_PORT|g" -e "s|@REDIS_PORT@|$REDIS_PORT|g" -e "s|@SOLR_PORT@|$SOLR_PORT|g" \
    -e "s|@DEMO_PORT@|$DEMO_PORT|g" -e "s|@SMTP_PORT@|$SMTP_PORT|g" -e "s|@PKI_PORT@|$PKI_PORT|g" \
    "$ROOT/dev/demo.ini.in" > "$INI.tmp"
chmod 600 "$INI.tmp"; mv "$INI.tmp" "$INI"
mkdir -p "$RUN/storage"

say "migrating the database (CKAN core, activity, statrequest)"
"$CKAN" -c "$INI" db upgrade > "$RUN/demo-migrate.log" 2>&1 || die "migration failed; see $RUN/demo-migrate.log"
say "loading demo data"
"$CKAN" -c "$INI" statrequest demo-data --password-file "$RUN/demo-passwords.txt" 2> "$RUN/demo-data.log" \
  || die "loading demo data failed; see $RUN/demo-data.log"

"$CKAN" -c "$INI" statrequest init-test-pki >> "$RUN/demo-data.log" 2>&1 \
  || die "creating the demo signing keys failed; see $RUN/demo-data.log"
# the TSA/OCSP/CRL service of that test PKI (re-read: init-test-pki may have added signers)
bash "$ROOT/dev/services.sh" restart-pki

if ! { [ -f "$RUN/worker.pid" ] && kill -0 "$(cat "$RUN/worker.pid")" 2>/dev/null; }; then
  nohup "$CKAN" -c "$INI" jobs worker > "$RUN/worker.log" 2>&1 &
  echo $! > "$RUN/worker.pid"
fi
trap 'kill "$(cat "$RUN/worker.pid" 2>/dev/null)" 2>/dev/null; rm -f "$RUN/worker.pid"' EXIT

cat <<TXT

  Portal Satu Data (demo) with ckanext-statrequest
  URL:     http://127.0.0.1:$PORT/   (service page: http://127.0.0.1:$PORT/permintaan-data/)
  Mail:    http://127.0.0.1:$MAILPIT_PORT/   (every mail the portal sends, caught by Mailpit)
  Logins (user / password):
$(sed 's/^/    /' "$RUN/demo-passwords.txt")

  Signing passphrase (paraf and signature, demo keys): rahasia-uji
  Stop with Ctrl-C, then 'make stop' to stop PostgreSQL, Redis, Solr and Mailpit.
TXT
# `ckan run` is a development server: never expose its interactive debugger (a 500 would
# show source, SQL and a console). Production runs gunicorn behind nginx.
exec "$CKAN" -c "$INI" run -H 127.0.0.1 -p "$PORT" --disable-reloader --disable-debugger
