#!/usr/bin/env bash
# The local stack for the demo portal and the tests: PostgreSQL and Redis from Debian, Apache
# Solr 9 from Maven Central (run embedded by dev/solr), and for the demo the mail catcher Mailpit
# (built with `go install`). Everything binds to 127.0.0.1 and keeps its data and logs under
# .run/ (git-ignored). Idempotent: `start` installs what is missing,
# starts only what is not running, and waits until each service answers.
#
#   dev/services.sh install | start | stop | status
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN="$ROOT/.run"
VENV="$ROOT/.venv"
# shellcheck source=dev/ports.sh
. "$ROOT/dev/ports.sh"
# Test sets (STATREQUEST_TEST_SET=N, dev/ports.sh): set 1 is ckan_test, set N is ckan_testN. Two by
# default (a second suite beside the first); STATREQUEST_TEST_SETS=7 makes room for parallel work.
TEST_DBS="ckan_test"
for n in $(seq 2 "${STATREQUEST_TEST_SETS:-2}"); do TEST_DBS="$TEST_DBS ckan_test$n"; done
SOLR_CORES="ckan $TEST_DBS"
APT_PACKAGES="postgresql redis-server libpq-dev libmagic1 libpango-1.0-0 libpangoft2-1.0-0
  libharfbuzz-subset0 fonts-liberation2 poppler-utils softhsm2 chromium curl gcc python3-dev
  nginx-light"  # nginx-light: tests/ops (nginx -t of deploy/nginx, X-Accel-Redirect downloads)

say() { printf '\033[1m[services]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[services] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# await_start PIDFILE READY-COMMAND NAME LOG: wait up to 15 s for a service started in the
# background to answer, and stop with its log when it exits first.
await_start() {
  for _ in $(seq 60); do
    "$2" && return 0
    kill -0 "$(cat "$1")" 2>/dev/null || die "$3 exited while starting; see $4"
    sleep 0.25
  done
  "$2" || die "$3 did not answer; see $4"
}

# stop_pidfile PIDFILE NAME [QUARTER-SECONDS]: end the process named by PIDFILE (politely,
# then, after 5 s or the given time, for good).
stop_pidfile() {
  [ -f "$1" ] || return 0
  local pid; pid=$(cat "$1")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"; for _ in $(seq "${3:-20}"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"; say "$2 stopped"
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_system() {
  local missing=()
  for pkg in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  command -v java >/dev/null || missing+=(default-jdk-headless)
  command -v mvn >/dev/null || missing+=(maven)
  if ((${#missing[@]})); then
    say "installing Debian packages: ${missing[*]}"
    [ "$(id -u)" = 0 ] || die "need root to apt-get install ${missing[*]}"
    apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || die "apt-get install failed for: ${missing[*]}"
  fi
  command -v java >/dev/null || die "Java is missing and could not be installed (Solr needs Java 17)"
  command -v mvn >/dev/null || die "Maven is missing and could not be installed (Solr is fetched with Maven)"
}

install_python() {
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtualenv $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed"
  fi
  local stamp="$VENV/.installed" want
  want=$(cat "$ROOT/requirements.txt" "$ROOT/dev-requirements.txt" "$ROOT/setup.cfg" | sha256sum | cut -c1-16)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Python packages into $VENV"
    "$VENV/bin/pip" install -q --upgrade pip wheel setuptools >/dev/null
    "$VENV/bin/pip" install -q -r "$ROOT/requirements.txt" -r "$ROOT/dev-requirements.txt" \
      || die "pip install failed"
    "$VENV/bin/pip" install -q --no-deps -e "$ROOT" > "$RUN/pip-editable.log" 2>&1 || die "pip install -e . failed; see $RUN/pip-editable.log"
    echo "$want" > "$stamp"
  fi
  # WeasyPrint needs these fonts and libraries at run time.
  "$VENV/bin/python" -c "import weasyprint" 2>/dev/null || die "WeasyPrint cannot load (pango missing?)"
}

install_solr() {
  local cp="$RUN/solr/classpath.txt"
  mkdir -p "$RUN/solr"
  if [ ! -s "$cp" ] || [ ! -f "$ROOT/dev/solr/target/classes/statrequest/CkanSolr.class" ] \
     || [ "$ROOT/dev/solr/pom.xml" -nt "$cp" ]; then
    say "resolving Apache Solr 9 from Maven Central (first time takes a minute)"
    (cd "$ROOT/dev/solr" && mvn -q -B compile dependency:build-classpath -Dmdep.outputFile="$cp.tmp" \
       > "$RUN/solr/maven.log" 2>&1) || die "Maven could not fetch or build Solr; see $RUN/solr/maven.log"
    mv "$cp.tmp" "$cp"
  fi
}

install_verapdf() {
  # veraPDF (PDF/A validator) for the tests; only its class path is kept.
  local cp="$RUN/verapdf/classpath.txt"
  mkdir -p "$RUN/verapdf"
  if [ ! -s "$cp" ] || [ "$ROOT/dev/verapdf/pom.xml" -nt "$cp" ]; then
    say "resolving veraPDF from Maven Central (first time takes a minute)"
    (cd "$ROOT/dev/verapdf" && mvn -q -B dependency:build-classpath -Dmdep.outputFile="$cp.tmp" \
       > "$RUN/verapdf/maven.log" 2>&1) || die "Maven could not fetch veraPDF; see $RUN/verapdf/maven.log"
    mv "$cp.tmp" "$cp"
  fi
}

cmd_install() { install_system; install_python; install_solr; install_verapdf; install_mailpit; install_seaweedfs; }

# --- PostgreSQL ----------------------------------------------------------------------------------
pg_ready() { "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }

# The cluster lives in .run/pgdata, run by the `postgres` user. When that user cannot reach
# .run (a clone under /root or any other 0700 folder), the cluster goes to a folder of its own
# under /var/lib/postgresql, named after this checkout, and .run/pgdata links to it.
pg_home() {
  if su postgres -s /bin/sh -c "cd '$RUN'" 2>/dev/null; then
    echo "$RUN/pg"
  else
    echo "/var/lib/postgresql/statrequest/$(printf '%s' "$ROOT" | sha256sum | cut -c1-16)"
  fi
}

start_pg() {
  local bin home data log; bin=$(pg_bin)
  [ -n "$bin" ] || die "PostgreSQL server binaries not found (apt package postgresql)"
  data="$RUN/pgdata"
  if [ -f "$data/postmaster.pid" ] && pg_ready; then say "PostgreSQL already running on :$PG_PORT"; return; fi
  port_busy "$PG_PORT" && die "PostgreSQL cannot start: port $PG_PORT is taken by another program"
  home=$(pg_home); log="$home/postgresql.log"
  if [ ! -f "$data/PG_VERSION" ]; then
    say "initialising PostgreSQL cluster in $home/data"
    # A half-made cluster is removed so that the next run starts clean.
    rm -rf "$data" "$home"; mkdir -p "$home/data"
    chown -R postgres:postgres "$home"; chmod 700 "$home/data"
    ln -s "$home/data" "$data"
    su postgres -s /bin/sh -c "'$bin/initdb' -D '$home/data' -U postgres -A trust -E UTF8 --locale=C.UTF-8" \
      > "$RUN/pg-init.log" 2>&1 || { rm -rf "$data" "$home"; die "PostgreSQL initdb failed; see $RUN/pg-init.log"; }
  fi
  mkdir -p "$home"; touch "$log"; chown postgres:postgres "$home" "$log"; ln -sfn "$log" "$RUN/postgresql.log"
  # postgres may not be able to follow .run/pgdata: hand it the real folder
  su postgres -s /bin/sh -c "'$bin/pg_ctl' -D '$(readlink -f "$data")' -l '$log' -w -t 60 \
     -o \"-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=/tmp -c max_connections=200 -c fsync=off -c synchronous_commit=off\" start" \
     >/dev/null || die "PostgreSQL did not start; see $log"
  pg_ready || die "PostgreSQL did not answer on 127.0.0.1:$PG_PORT"
  local psql=("$bin/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1)
  "${psql[@]}" -tc "SELECT 1 FROM pg_roles WHERE rolname='ckan'" | grep -q 1 \
    || "${psql[@]}" -c "CREATE ROLE ckan LOGIN PASSWORD 'ckan'" || die "could not create role ckan"
  for db in ckan_dev $TEST_DBS ckan_bench; do
    "${psql[@]}" -tc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
      || "${psql[@]}" -c "CREATE DATABASE $db OWNER ckan ENCODING 'UTF8'" || die "could not create database $db"
  done
  say "PostgreSQL ready on 127.0.0.1:$PG_PORT (databases ckan_dev $TEST_DBS ckan_bench)"
}

stop_pg() {
  [ -f "$RUN/pgdata/postmaster.pid" ] || return 0  # follows the link to a cluster kept elsewhere
  su postgres -s /bin/sh -c "'$(pg_bin)/pg_ctl' -D '$(readlink -f "$RUN/pgdata")' -m fast -w stop" >/dev/null 2>&1 || true
  say "PostgreSQL stopped"
}

# --- Redis ---------------------------------------------------------------------------------------
redis_ready() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

start_redis() {
  if [ -f "$RUN/redis.pid" ] && kill -0 "$(cat "$RUN/redis.pid")" 2>/dev/null && redis_ready; then
    say "Redis already running on :$REDIS_PORT"; return
  fi
  port_busy "$REDIS_PORT" && die "Redis cannot start: port $REDIS_PORT is taken by another program"
  mkdir -p "$RUN/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --dir "$RUN/redis" \
    --pidfile "$RUN/redis.pid" --logfile "$RUN/redis.log" --save "" --appendonly yes \
    || die "Redis did not start; see $RUN/redis.log"
  for _ in $(seq 50); do redis_ready && break; sleep 0.2; done
  redis_ready || die "Redis did not answer on 127.0.0.1:$REDIS_PORT; see $RUN/redis.log"
  say "Redis ready on 127.0.0.1:$REDIS_PORT"
}

stop_redis() {
  [ -f "$RUN/redis.pid" ] || return 0
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$RUN/redis.pid")" 2>/dev/null || true
  rm -f "$RUN/redis.pid"; say "Redis stopped"
}

# --- Solr ----------------------------------------------------------------------------------------
solr_ready() {
  curl -sf "http://127.0.0.1:$SOLR_PORT/solr/$1/select?q=*:*&rows=0&wt=json" >/dev/null 2>&1
}

solr_home() {
  # The schema is CKAN's own, copied from the installed package so that versions always match.
  local home="$RUN/solr/home" schema
  schema=$("$VENV/bin/python" -c "import ckan, os; print(os.path.join(os.path.dirname(ckan.__file__), 'config/solr/schema.xml'))")
  [ -f "$schema" ] || die "CKAN's Solr schema not found at $schema"
  mkdir -p "$home"; echo "<solr></solr>" > "$home/solr.xml"
  for core in $SOLR_CORES; do
    mkdir -p "$home/$core/conf"
    echo "name=$core" > "$home/$core/core.properties"
    cp "$schema" "$home/$core/conf/schema.xml"
    cp "$ROOT/dev/solr/conf/solrconfig.xml" "$home/$core/conf/solrconfig.xml"
    touch "$home/$core/conf/synonyms.txt" "$home/$core/conf/protwords.txt"
  done
}

start_solr() {
  local pidf="$RUN/solr.pid"
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null && solr_ready ckan; then
    say "Solr already running on :$SOLR_PORT"; return
  fi
  port_busy "$SOLR_PORT" && die "Solr cannot start: port $SOLR_PORT is taken by another program"
  install_solr; solr_home
  nohup java -Xms256m -Xmx768m -Dsolr.log.dir="$RUN/solr" -Dsolr.install.dir="$RUN/solr" \
    -cp "$ROOT/dev/solr/target/classes:$(cat "$RUN/solr/classpath.txt")" statrequest.CkanSolr \
    "$RUN/solr/home" "$SOLR_PORT" > "$RUN/solr.log" 2>&1 &
  echo $! > "$pidf"
  for _ in $(seq 120); do
    solr_ready ckan && solr_ready ckan_test && break
    kill -0 "$(cat "$pidf")" 2>/dev/null || die "Solr exited while starting; see $RUN/solr.log"
    sleep 0.5
  done
  solr_ready ckan || die "Solr did not answer on 127.0.0.1:$SOLR_PORT within 60 s; see $RUN/solr.log"
  say "Solr ready on http://127.0.0.1:$SOLR_PORT/solr (cores: $SOLR_CORES)"
}

stop_solr() { stop_pidfile "$RUN/solr.pid" Solr 40; }

# --- test PKI service (demo): TSA, OCSP and CRLs of the demo's test PKI ---------------------------
# `certomancer animate` (Werkzeug, 127.0.0.1 only) serves the config that `ckan statrequest
# init-test-pki` writes when signing.test_pki_url is set; the demo's letters get their trusted
# time and revocation data from it. Not started before that config exists.
PKI_CONFIG=${STATREQUEST_PKI_CONFIG:-$RUN/storage/statrequest-pki/certomancer/certomancer.yml}
pki_ready() { curl -sf -o /dev/null "http://127.0.0.1:$PKI_PORT/statrequest-test/crls/root/latest.crl"; }

start_pki() {
  local pidf="$RUN/pki.pid"
  if [ ! -f "$PKI_CONFIG" ]; then
    say "test PKI service not started: no test PKI yet (ckan statrequest init-test-pki makes it)"; return
  fi
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null && pki_ready; then
    say "test PKI service already running on :$PKI_PORT"; return
  fi
  port_busy "$PKI_PORT" && die "test PKI service cannot start: port $PKI_PORT is taken by another program (set STATREQUEST_PKI_PORT)"
  nohup "$VENV/bin/certomancer" --config "$PKI_CONFIG" animate --port "$PKI_PORT" --no-web-ui \
    --no-time-override > "$RUN/pki.log" 2>&1 &
  echo $! > "$pidf"
  await_start "$pidf" pki_ready "test PKI service (127.0.0.1:$PKI_PORT)" "$RUN/pki.log"
  say "test PKI service (TSA, OCSP, CRL) ready on http://127.0.0.1:$PKI_PORT"
}

stop_pki() { stop_pidfile "$RUN/pki.pid" "test PKI service"; }

# --- Mailpit (demo): the mail catcher with a web inbox --------------------------------------------
# The demo's SMTP server (port SMTP_PORT, which demo.ini names): every mail the portal sends
# lands in Mailpit's inbox at http://127.0.0.1:$MAILPIT_PORT/ (and its API, /api/v1/messages)
# instead of leaving the machine. Built once with `go install` from the Go module proxy and
# kept under .run/bin. The tests keep their own SMTP server (aiosmtpd).
MAILPIT_VERSION=v1.33.1
MAILPIT_BIN="$RUN/bin/mailpit"

go_cmd() { command -v go 2>/dev/null || { [ -x /usr/local/go/bin/go ] && echo /usr/local/go/bin/go; }; }

install_mailpit() {
  local stamp="$RUN/bin/mailpit.version" go
  [ -x "$MAILPIT_BIN" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$MAILPIT_VERSION" ] && return 0
  go=$(go_cmd) || die "Go is missing: Mailpit (the demo's mail catcher) is built with it; install Go 1.26 or newer from https://go.dev/dl/ (Debian's golang-go is too old)"
  say "building Mailpit $MAILPIT_VERSION with go install (first time takes a minute or two)"
  mkdir -p "$RUN/bin"
  GOBIN="$RUN/bin" "$go" install "github.com/axllent/mailpit@$MAILPIT_VERSION" > "$RUN/mailpit-build.log" 2>&1 \
    || die "go install of Mailpit $MAILPIT_VERSION failed; see $RUN/mailpit-build.log"
  echo "$MAILPIT_VERSION" > "$stamp"
}

mailpit_ready() { curl -sf "http://127.0.0.1:$MAILPIT_PORT/api/v1/info" >/dev/null 2>&1 && port_busy "$SMTP_PORT"; }

start_mailpit() {
  local pidf="$RUN/mailpit.pid"
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null && mailpit_ready; then
    say "Mailpit already running (SMTP :$SMTP_PORT, inbox :$MAILPIT_PORT)"; return
  fi
  port_busy "$SMTP_PORT" && die "Mailpit cannot start: port $SMTP_PORT is taken by another program (set STATREQUEST_SMTP_PORT)"
  port_busy "$MAILPIT_PORT" && die "Mailpit cannot start: port $MAILPIT_PORT is taken by another program (set STATREQUEST_MAILPIT_PORT)"
  install_mailpit
  mkdir -p "$RUN/mailpit"
  nohup "$MAILPIT_BIN" --smtp "127.0.0.1:$SMTP_PORT" --listen "127.0.0.1:$MAILPIT_PORT" \
    --database "$RUN/mailpit/mailpit.db" --disable-version-check --smtp-disable-rdns \
    > "$RUN/mailpit.log" 2>&1 &
  echo $! > "$pidf"
  await_start "$pidf" mailpit_ready "Mailpit (127.0.0.1:$SMTP_PORT, :$MAILPIT_PORT)" "$RUN/mailpit.log"
  say "Mailpit ready: SMTP 127.0.0.1:$SMTP_PORT, inbox http://127.0.0.1:$MAILPIT_PORT/"
}

stop_mailpit() { stop_pidfile "$RUN/mailpit.pid" Mailpit; }

# --- SeaweedFS (tests/storage, the two-node scale run): S3 object store -------------------------
# Built once into .run/bin/weed by dev/seaweedfs.sh (minutes, the first time only; afterwards a
# version check); the tests and the scale run start their own servers with it.
install_seaweedfs() { bash "$ROOT/dev/seaweedfs.sh" build || die "building SeaweedFS failed"; }

cmd_start() { mkdir -p "$RUN"; cmd_install; start_pg; start_redis; start_solr; start_pki; start_mailpit; }
cmd_stop() { stop_mailpit; stop_pki; stop_solr; stop_redis; stop_pg; }
cmd_status() {
  pg_ready && echo "postgresql: up (127.0.0.1:$PG_PORT)" || echo "postgresql: down"
  redis_ready && echo "redis: up (127.0.0.1:$REDIS_PORT)" || echo "redis: down"
  solr_ready ckan && echo "solr: up (http://127.0.0.1:$SOLR_PORT/solr)" || echo "solr: down"
  pki_ready && echo "test PKI service: up (http://127.0.0.1:$PKI_PORT)" || echo "test PKI service: down"
  mailpit_ready && echo "mailpit: up (SMTP 127.0.0.1:$SMTP_PORT, inbox http://127.0.0.1:$MAILPIT_PORT/)" || echo "mailpit: down"
}

case "${1:-}" in
  install) mkdir -p "$RUN"; cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  restart-solr) stop_solr; start_solr ;;
  restart-redis) stop_redis; start_redis ;;
  restart-pki) stop_pki; start_pki ;;
  install-verapdf) mkdir -p "$RUN"; install_verapdf ;;
  install-mailpit) mkdir -p "$RUN"; install_mailpit ;;
  install-seaweedfs) mkdir -p "$RUN"; install_seaweedfs ;;
  restart-mailpit) stop_mailpit; start_mailpit ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
