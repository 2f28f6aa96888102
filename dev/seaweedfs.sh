#!/usr/bin/env bash
# SeaweedFS, the S3-compatible object store of the storage tests and the two-node scale run.
# Built once from the Go module proxy into .run/bin/weed (about 6 minutes on 2 cores, one
# ~230 MB binary; `go install …/weed@version` is refused because its go.mod has replace
# directives, so the module is downloaded, copied to a writable dir and built there), then
# started as `weed server -s3` on loopback ports with its data under a given directory.
#
#   dev/seaweedfs.sh build                   build .run/bin/weed unless that version is there
#   dev/seaweedfs.sh start DIR [BASE_PORT]   start in DIR (ports BASE..BASE+3, gRPC +10000)
#   dev/seaweedfs.sh stop DIR                stop the server started in DIR
#   dev/seaweedfs.sh status DIR              "up"/"down"
#
# Ports: master BASE, volume BASE+1, filer BASE+2, S3 BASE+3 (default BASE 9400, S3 on 9403).
# S3 credentials: access key "statrequest", secret "statrequest-secret" (DIR/s3.json).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN="$ROOT/.run"
WEED_MODULE=github.com/seaweedfs/seaweedfs
WEED_VERSION=v0.0.0-20261109003541-7506e5f91cd6
WEED_BIN="$RUN/bin/weed"
S3_ACCESS_KEY=statrequest
S3_SECRET_KEY=statrequest-secret

say() { printf '\033[1m[seaweedfs]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[seaweedfs] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }
go_cmd() { command -v go 2>/dev/null || { [ -x /usr/local/go/bin/go ] && echo /usr/local/go/bin/go; }; }

cmd_build() {
  local stamp="$WEED_BIN.version" go src build
  if [ -x "$WEED_BIN" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$WEED_VERSION" ]; then return 0; fi
  go=$(go_cmd) || die "Go is missing: SeaweedFS is built with it; install Go 1.26+ from https://go.dev/dl/"
  mkdir -p "$RUN/bin"
  # one build at a time (a test fixture and `services.sh install` may ask at once)
  exec 9>"$RUN/bin/weed.lock"; flock 9
  if [ -x "$WEED_BIN" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$WEED_VERSION" ]; then return 0; fi
  local log="$RUN/seaweedfs-build.log"
  say "building SeaweedFS $WEED_VERSION (first time: several minutes; log $log)"
  build="$RUN/seaweedfs-build"
  (
    set -e
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    cd "$tmp" && "$go" mod init weedfetch >/dev/null 2>&1
    GOFLAGS=-mod=mod "$go" mod download -json "$WEED_MODULE@$WEED_VERSION" > "$tmp/dl.json"
    src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$tmp/dl.json")
    [ -d "$src" ] || { echo "module dir not found in go mod download output"; exit 1; }
    rm -rf "$build"; cp -r "$src" "$build"; chmod -R u+w "$build"
    cd "$build"
    nice -n 15 "$go" build -trimpath -o "$WEED_BIN.tmp" ./weed
    mv "$WEED_BIN.tmp" "$WEED_BIN"
  ) > "$log" 2>&1 || die "building SeaweedFS failed; see $log"
  rm -rf "$build"
  echo "$WEED_VERSION" > "$stamp"
  say "built $WEED_BIN ($WEED_VERSION)"
}

s3_ready() { curl -s -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null; }

cmd_start() {
  local dir=${1:?usage: start DIR [BASE_PORT]} base=${2:-9400}
  mkdir -p "$dir/data"; dir=$(cd "$dir" && pwd)
  [ -x "$WEED_BIN" ] || cmd_build
  local pidf="$dir/weed.pid"
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then say "already running in $dir"; return 0; fi
  cat > "$dir/s3.json" <<EOF
{"identities": [{"name": "statrequest", "credentials": [{"accessKey": "$S3_ACCESS_KEY",
  "secretKey": "$S3_SECRET_KEY"}], "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
EOF
  nohup "$WEED_BIN" server -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port="$base" -master.port.grpc=$((base + 10000)) \
    -volume.port=$((base + 1)) -volume.port.grpc=$((base + 10001)) \
    -filer.port=$((base + 2)) -filer.port.grpc=$((base + 10002)) \
    -s3 -s3.port=$((base + 3)) -s3.port.grpc=$((base + 10003)) -s3.config="$dir/s3.json" \
    -volume.max=0 -master.volumeSizeLimitMB=64 > "$dir/weed.log" 2>&1 &
  echo $! > "$pidf"
  for _ in $(seq 240); do
    s3_ready $((base + 3)) && { say "S3 ready on http://127.0.0.1:$((base + 3))"; return 0; }
    kill -0 "$(cat "$pidf")" 2>/dev/null || die "weed exited while starting; see $dir/weed.log"
    sleep 0.25
  done
  die "weed S3 did not answer in 60 s; see $dir/weed.log"
}

cmd_stop() {
  local dir=${1:?usage: stop DIR} pidf pid
  pidf="$dir/weed.pid"; [ -f "$pidf" ] || return 0
  pid=$(cat "$pidf")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"; for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidf"
}

case "${1:-}" in
  build) cmd_build ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; pidf="${1:?usage: status DIR}/weed.pid"
          [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null && echo up || echo down ;;
  *) echo "usage: $0 build | start DIR [BASE_PORT] | stop DIR | status DIR" >&2; exit 2 ;;
esac
