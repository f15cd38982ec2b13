#!/usr/bin/env bash
# Local image registries for the image tests and the pull benchmark: Debian's `docker-registry`
# (distribution 2.8) with configs of our own, both on 127.0.0.1, storage under a temp dir:
#   open  127.0.0.1:${SRC_REGISTRY_OPEN_PORT:-5001}  no auth
#   auth  127.0.0.1:${SRC_REGISTRY_AUTH_PORT:-5002}  htpasswd (bcrypt) auth, user/password below
# The Engine treats 127.0.0.0/8 registries as insecure-allowed, so plain HTTP works.
#
# Usage:
#   scripts/registry.sh up [HOLDER]    start both (idempotent) and register HOLDER (default: parent PID)
#   scripts/registry.sh down [HOLDER]  unregister HOLDER; stop both and delete the storage once no
#                                      live holder remains (HOLDER "all": stop regardless)
#   scripts/registry.sh status         print state, ports and live holders
#
# Several test files (and several test runs) share the registries: each one registers as a holder
# ("PID" or "PID-tag"; a holder whose PID is gone no longer counts), so the last one out stops them.
# Environment: SRC_REGISTRY_DIR (default ${TMPDIR:-/tmp}/src-test-registry), SRC_REGISTRY_OPEN_PORT,
# SRC_REGISTRY_AUTH_PORT, SRC_REGISTRY_USER (default src-test), SRC_REGISTRY_PASSWORD (default
# src-test-password; a throwaway test credential, also in test/fixtures/config.json).
set -euo pipefail

DIR=${SRC_REGISTRY_DIR:-${TMPDIR:-/tmp}/src-test-registry}
OPEN_PORT=${SRC_REGISTRY_OPEN_PORT:-5001}
AUTH_PORT=${SRC_REGISTRY_AUTH_PORT:-5002}
USER_NAME=${SRC_REGISTRY_USER:-src-test}
PASSWORD=${SRC_REGISTRY_PASSWORD:-src-test-password}
cmd=${1:-status}
holder=${2:-$PPID}

log() { echo "registry: $*" >&2; }

ensure_package() {
  command -v docker-registry >/dev/null 2>&1 && command -v htpasswd >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing docker-registry apache2-utils"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq docker-registry apache2-utils >/dev/null
  else
    log "please install Debian's docker-registry and apache2-utils"; exit 1
  fi
}

# HTTP status of GET /v2/ on a port ("000" when nothing answers).
probe() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/v2/" 2>/dev/null || true; }

alive() { local pid; pid=$(cat "$DIR/$1.pid" 2>/dev/null) || return 1; [ -n "$pid" ] && grep -qs docker-registry "/proc/$pid/cmdline"; }

live_holders() {
  local f pid
  [ -d "$DIR/holders" ] || return 0
  for f in "$DIR"/holders/*; do
    [ -e "$f" ] || continue
    pid=${f##*/}; pid=${pid%%-*}
    if [ -d "/proc/$pid" ]; then echo "${f##*/}"; else rm -f "$f"; fi
  done
}

write_config() { # name port extra-yaml
  cat >"$DIR/$1.yml" <<EOF
version: 0.1
log:
  level: warn
  fields:
    service: src-test-registry-$1
storage:
  filesystem:
    rootdirectory: $DIR/$1-data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$2
  secret: src-test-$1-$RANDOM$RANDOM
  headers:
    X-Content-Type-Options: [nosniff]
$3
EOF
}

start_one() { # name port expected-status
  local name=$1 port=$2 want=$3
  if alive "$name" && [ "$(probe "$port")" = "$want" ]; then return 0; fi
  local code; code=$(probe "$port")
  if [ "$code" != 000 ]; then log "port $port is taken by something else (GET /v2/ answered $code)"; exit 1; fi
  setsid docker-registry serve "$DIR/$name.yml" >>"$DIR/$name.log" 2>&1 </dev/null 9<&- &
  echo $! >"$DIR/$name.pid"
  for _ in $(seq 1 100); do
    [ "$(probe "$port")" = "$want" ] && return 0
    sleep 0.1
  done
  log "$name registry on 127.0.0.1:$port did not come up; see $DIR/$name.log"; tail -5 "$DIR/$name.log" >&2 || true
  exit 1
}

stop_all() {
  local name pid
  for name in open auth; do
    pid=$(cat "$DIR/$name.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && alive "$name"; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do alive "$name" || break; sleep 0.1; done
      alive "$name" && kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$DIR"
}

# One caller at a time (the lock is on this script file, so nothing is left behind).
exec 9<"${BASH_SOURCE[0]}"
flock 9

case "$cmd" in
  up)
    ensure_package
    mkdir -p "$DIR/holders" "$DIR/open-data" "$DIR/auth-data"
    if ! [ -s "$DIR/htpasswd" ]; then htpasswd -Bbn "$USER_NAME" "$PASSWORD" >"$DIR/htpasswd"; fi
    write_config open "$OPEN_PORT" ""
    write_config auth "$AUTH_PORT" "auth:
  htpasswd:
    realm: src-test-registry
    path: $DIR/htpasswd"
    start_one open "$OPEN_PORT" 200
    start_one auth "$AUTH_PORT" 401
    : >"$DIR/holders/$holder"
    ;;
  down)
    if [ "$holder" = all ]; then stop_all; exit 0; fi
    rm -f "$DIR/holders/$holder"
    if [ -d "$DIR" ] && [ -z "$(live_holders)" ]; then stop_all; fi
    ;;
  status)
    for name in open auth; do
      port=$OPEN_PORT; [ $name = auth ] && port=$AUTH_PORT
      if alive $name; then echo "$name: up on 127.0.0.1:$port (pid $(cat "$DIR/$name.pid"))"; else echo "$name: down"; fi
    done
    echo "holders: $(live_holders | tr '\n' ' ')"
    ;;
  *)
    echo "usage: $0 up|down|status [HOLDER]" >&2; exit 2 ;;
esac
