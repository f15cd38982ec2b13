#!/usr/bin/env bash
# A PRIVATE second Docker Engine for tests that must stop or restart "the" engine (uptime gaps,
# fault tests) without touching the machine's main engine (/var/run/docker.sock), which other
# tests use.
#
#   scripts/private-engine.sh start NAME     start it (idempotent); loads the test images into it
#   scripts/private-engine.sh stop NAME      SIGTERM its dockerd and wait (idempotent; data kept,
#                                            so a later start is a real engine restart)
#   scripts/private-engine.sh status NAME    print state and socket; exit 0 running, 3 stopped
#   scripts/private-engine.sh destroy NAME   stop it and delete all its data (idempotent)
#   scripts/private-engine.sh host NAME      print its DOCKER_HOST URL
#
# NAME: 1-24 of [A-Za-z0-9_-]. Everything lives in /tmp/src-private-NAME (override the parent
# with SRC_PRIVATE_ENGINE_ROOT): the Engine API socket is unix:///tmp/src-private-NAME/docker.sock,
# with its own --data-root, --exec-root, --pidfile, config file (so /etc/docker/daemon.json is
# never read), engine ID (deprecated-key-path), cgroup parent and dockerd-supervised containerd.
# Networking is off: dockerd runs in a network namespace of its own (unshare --net) with
# --bridge=none --iptables=false --ip-masq=false --ip-forward=false, so it never touches the host
# firewall, sysctls or interfaces (a --bridge=none dockerd in the host namespace deletes docker0!)
# nor the main engine's networks; containers get only loopback.
# The main engine is only read from (`docker save` of the test images).
#
# Safety: a process is signalled only if its command line names this engine's own socket;
# a pidfile whose PID is not such a dockerd is stale and removed. Commands for one NAME are
# serialised with flock. Needs root.
#
# Environment: SRC_PRIVATE_ENGINE_IMAGES (default "src-test/busybox:latest src-test/httpd:latest";
# missing ones are skipped, busybox is required), SRC_PRIVATE_ENGINE_STOP_TIMEOUT (seconds before
# SIGKILL, default 30), SRC_MAIN_ENGINE (default unix:///var/run/docker.sock).
set -euo pipefail

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export LC_ALL=C
DOCKER_CLI=/usr/local/bin/docker
[ -x "$DOCKER_CLI" ] || DOCKER_CLI=$(command -v docker || echo docker)
MAIN_ENGINE=${SRC_MAIN_ENGINE:-unix:///var/run/docker.sock}
STOP_TIMEOUT=${SRC_PRIVATE_ENGINE_STOP_TIMEOUT:-30}
IMAGES=${SRC_PRIVATE_ENGINE_IMAGES:-src-test/busybox:latest src-test/httpd:latest}
REQUIRED_IMAGE=src-test/busybox:latest
ROOT=${SRC_PRIVATE_ENGINE_ROOT:-/tmp}
# shellcheck source=scripts/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

say() { echo "private-engine: $*"; }
die() { echo "private-engine: error: $*" >&2; exit 1; }

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; }

cmd=${1:-}
NAME=${2:-}
case "$cmd" in
  start | stop | status | destroy | host) ;;
  -h | --help | help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac
[[ $NAME =~ ^[A-Za-z0-9_-]{1,24}$ ]] || die "NAME must be 1-24 of [A-Za-z0-9_-] (got '${NAME}')"
[[ $STOP_TIMEOUT =~ ^[0-9]+$ ]] || die "SRC_PRIVATE_ENGINE_STOP_TIMEOUT must be whole seconds"

DIR="$ROOT/src-private-$NAME"
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/docker.pid"
HOST="unix://$SOCK"
case "$DIR" in /var/lib/docker* | /run/docker* | /var/run/docker* | /run/containerd*) die "refusing to use $DIR" ;; esac

if [ "$cmd" = host ]; then echo "$HOST"; exit 0; fi

ping() { curl -fsS --max-time 2 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1; }
dk() { env -u DOCKER_HOST -u DOCKER_CONTEXT -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH "$DOCKER_CLI" -H "$HOST" "$@"; }
main_dk() { env -u DOCKER_HOST -u DOCKER_CONTEXT -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH "$DOCKER_CLI" -H "$MAIN_ENGINE" "$@"; }

# True if PID is a live process whose command line mentions this engine's directory.
is_ours() {
  local pid=$1
  [[ $pid =~ ^[0-9]+$ ]] && pid_alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR/" || return 1
}
dockerd_pid() { # the PID of this engine's dockerd, or nothing
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if [ -n "$pid" ] && is_ours "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then echo "$pid"; return 0; fi
  # Not (or no longer) in the pidfile: look for a dockerd started with our socket.
  for pid in $(pgrep -x dockerd 2>/dev/null || true); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "unix://$SOCK"; then echo "$pid"; return 0; fi
  done
  return 0
}
# Every live daemon process of this engine: dockerd, its containerd, shims, runc (their command
# lines name $DIR); never a shell or editor that merely mentions the path.
our_pids() {
  local p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    case "$(cat "/proc/$p/comm" 2>/dev/null)" in
      dockerd | containerd | containerd-shim* | runc | docker-proxy) is_ours "$p" && echo "$p" ;;
    esac
  done
  return 0
}
unmount_under_dir() {
  awk -v p="$DIR" '$2 == p || index($2, p "/") == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r mp; do
    umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true
  done
}

cgroup_pids() { cgroup_procs "src-private-$NAME" | sort -un; }
reap() {
  local pids i
  for i in 1 2 3; do
    pids=$( { our_pids; cgroup_pids; } | sort -un | tr '\n' ' ')
    [ -n "${pids// /}" ] || return 0
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    # shellcheck disable=SC2086
    wait_pids_gone 5 $pids && continue
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    # shellcheck disable=SC2086
    wait_pids_gone 5 $pids || true
  done
  pids=$( { our_pids; cgroup_pids; } | sort -un | tr '\n' ' ')
  [ -z "${pids// /}" ] || say "warning: processes still alive: $pids"
}

lock() {
  mkdir -p /run/lock
  exec 9>"/run/lock/src-private-engine.$NAME.lock"
  flock -w 120 9 || die "another private-engine command for '$NAME' holds the lock"
}

do_stop() {
  local pid pids
  pid=$(dockerd_pid)
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_pids_gone "$STOP_TIMEOUT" "$pid"; then
      say "dockerd $pid did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_pids_gone 10 "$pid" || say "warning: dockerd $pid still alive"
    fi
  fi
  # Leftovers of a killed dockerd: its containerd and shims, then the container processes still
  # in our cgroup tree (a dead shim leaves them orphaned); then the pidfile and cgroup dirs.
  reap
  rm -f "$PIDFILE"
  # dockerd trusts exec-root/containerd/containerd.pid: if that PID is a zombie (its killed parent
  # was never reaped) or was reused, a new dockerd waits for it and times out.
  rm -f "$DIR/exec/containerd/containerd.pid"
  rm_cgroup_dirs "src-private-$NAME"
  [ -n "$pid" ] && say "$NAME stopped (was dockerd $pid)" || say "$NAME is not running"
  return 0
}

do_start() {
  local pid img i
  [ "$(id -u)" = 0 ] || die "must run as root"
  command -v dockerd >/dev/null || die "dockerd is not installed (run scripts/ensure-engine.sh)"
  command -v unshare >/dev/null || die "unshare (util-linux) is required"
  pid=$(dockerd_pid)
  if [ -n "$pid" ]; then
    if ping; then say "$NAME already running (dockerd $pid) at $HOST"; load_images; return 0; fi
    for i in $(seq 1 100); do ping && break; sleep 0.1; done
    ping || die "$NAME has a dockerd ($pid) that does not answer; run 'stop $NAME' first"
    load_images; return 0
  fi
  # Stale state from a killed run: pidfile, socket, processes, mounts.
  do_stop >/dev/null
  rm -f "$SOCK"
  mkdir -p "$DIR/data" "$DIR/exec"
  chmod 0711 "$DIR"
  cat >"$DIR/daemon.json" <<EOF
{
  "deprecated-key-path": "$DIR/key.json",
  "cgroup-parent": "/src-private-$NAME",
  "containerd-namespace": "src-private-$NAME",
  "containerd-plugins-namespace": "src-private-$NAME-plugins",
  "ip-forward": false,
  "userland-proxy": false,
  "log-level": "info"
}
EOF
  # Its own network namespace (unshare --net, which then execs dockerd): with --bridge=none a
  # dockerd DELETES the docker0 interface of the namespace it runs in, which in the host's would
  # cut the main engine's bridge network. setsid: own session, not killed with the caller's
  # process group; fd 9 (the lock) is not inherited.
  setsid unshare --net -- dockerd --config-file "$DIR/daemon.json" \
    -H "$HOST" --data-root "$DIR/data" --exec-root "$DIR/exec" --pidfile "$PIDFILE" \
    --bridge=none --iptables=false --ip-masq=false \
    </dev/null >>"$DIR/dockerd.log" 2>&1 9>&- &
  local launched=$!
  for i in $(seq 1 600); do
    ping && break
    if ! pid_alive "$launched"; then
      echo "--- $DIR/dockerd.log (tail) ---" >&2; tail -n 20 "$DIR/dockerd.log" >&2 || true
      die "dockerd exited during start-up"
    fi
    sleep 0.1
  done
  ping || die "dockerd did not answer within 60 s; see $DIR/dockerd.log"
  say "$NAME up at $HOST (dockerd $(dockerd_pid))"
  load_images
}

load_images() {
  local img missing=() tar
  for img in $IMAGES; do
    dk image inspect "$img" >/dev/null 2>&1 && continue
    if main_dk image inspect "$img" >/dev/null 2>&1; then missing+=("$img")
    elif [ "$img" = "$REQUIRED_IMAGE" ]; then die "the main engine has no $img; run scripts/build-test-images.sh"
    fi
  done
  [ "${#missing[@]}" = 0 ] && return 0
  tar="$DIR/images.tar"
  main_dk save -o "$tar" "${missing[@]}"
  dk load -q -i "$tar" >/dev/null
  rm -f "$tar"
  say "loaded ${missing[*]}"
}

do_status() {
  local pid
  pid=$(dockerd_pid)
  if [ -n "$pid" ] && ping; then say "$NAME running (dockerd $pid) at $HOST"; return 0; fi
  if [ -n "$pid" ]; then say "$NAME starting or stopping (dockerd $pid) at $HOST"; return 3; fi
  say "$NAME stopped ($HOST)"; return 3
}

do_destroy() {
  do_stop
  unmount_under_dir
  if [ -n "$(awk -v p="$DIR" '$2 == p || index($2, p "/") == 1' /proc/self/mounts)" ]; then
    die "mounts remain under $DIR; not deleting it"
  fi
  rm -rf "$DIR"
  rm -f "/run/lock/src-private-engine.$NAME.lock"
  say "$NAME destroyed"
}

case "$cmd" in
  start) lock; do_start ;;
  stop) lock; do_stop ;;
  status) do_status ;;
  destroy) lock; do_destroy ;;
esac
