#!/usr/bin/env bash
# A real multi-node Docker Swarm on this one machine, for tests of swarm mode.
#
#   scripts/swarm-lab.sh up [--nodes N]   start N (default 3) extra Docker Engines and join them
#   scripts/swarm-lab.sh down             tear everything down (idempotent, also after a failed up)
#   scripts/swarm-lab.sh status           `docker node ls` of the lab
#   scripts/swarm-lab.sh stop-node K      SIGTERM node K's dockerd and wait for it to exit
#   scripts/swarm-lab.sh start-node K     start node K's dockerd again with the same data
#
# Each node is a dockerd (with its own dockerd-managed containerd) in its own network, UTS
# (hostname src-nodeK) and mount namespace, with its own data root, exec root, pidfile, config
# file and engine ID. Nodes are wired by veth pairs to a bridge in a private "switch" network
# namespace; nothing is added to the host's network namespace or firewall, and the host's main
# engine (/var/run/docker.sock) is never touched except to `docker save` the test images.
# Node K's Engine API is the Unix socket $SWARM_LAB_DIR/nodeK/docker.sock (reachable from the
# host: Unix sockets live in the filesystem). Node 1 is the manager; `up` writes
# $SWARM_LAB_DIR/facility.json for the API's config. See scripts/swarm-lab.md.
#
# Environment: SWARM_LAB_DIR (default /tmp/src-swarm-lab), SWARM_LAB_STOP_TIMEOUT (seconds before
# SIGKILL, default 30), SWARM_LAB_SUBNET (first three octets of the node network, default
# 192.168.213), SWARM_LAB_MAIN_ENGINE (where the test images come from, default
# unix:///var/run/docker.sock), SWARM_LAB_IMAGES (more images to load into every node, separated
# by spaces, e.g. src-test/wsecho:latest; each must be on the main engine). Needs root.
set -euo pipefail

LAB=$(realpath -m "${SWARM_LAB_DIR:-/tmp/src-swarm-lab}")
DOCKER_CLI=/usr/local/bin/docker
[ -x "$DOCKER_CLI" ] || DOCKER_CLI=$(command -v docker || echo /usr/local/bin/docker)
MAIN_ENGINE=${SWARM_LAB_MAIN_ENGINE:-unix:///var/run/docker.sock}
SUBNET=${SWARM_LAB_SUBNET:-192.168.213}
STOP_TIMEOUT=${SWARM_LAB_STOP_TIMEOUT:-30}
IMAGES=(src-test/busybox:latest)       # required
OPTIONAL_IMAGES=(src-test/httpd:latest src-container-api/connector:latest) # loaded when the main engine has them (the connector: scripts/build-connector-image.sh)
SELF=$(readlink -f "${BASH_SOURCE[0]}")
# shellcheck source=scripts/lib.sh
. "${SELF%/*}/lib.sh"
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export LC_ALL=C

# Namespace/cgroup names: "srclab-..." for the default lab dir, with a hash of the dir otherwise,
# so two labs in different dirs do not collide.
if [ "$LAB" = /tmp/src-swarm-lab ]; then PFX=srclab; else PFX="srclab$(printf %s "$LAB" | md5sum | cut -c1-6)"; fi
SW_NS="$PFX-sw"

[[ $STOP_TIMEOUT =~ ^[0-9]+$ ]] || { echo "swarm-lab: SWARM_LAB_STOP_TIMEOUT must be whole seconds" >&2; exit 2; }

say() { echo "swarm-lab: $*"; }
die() { echo "swarm-lab: error: $*" >&2; exit 1; }
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

node_ns() { echo "$PFX-n$1"; }
node_dir() { echo "$LAB/node$1"; }
node_sock() { echo "$LAB/node$1/docker.sock"; }

# The docker CLI against node K (never DOCKER_HOST / DOCKER_CONTEXT from the caller).
dk() {
  local k=$1; shift
  env -u DOCKER_HOST -u DOCKER_CONTEXT -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH \
    "$DOCKER_CLI" -H "unix://$(node_sock "$k")" "$@"
}
main_dk() { env -u DOCKER_HOST -u DOCKER_CONTEXT "$DOCKER_CLI" -H "$MAIN_ENGINE" "$@"; }
ping_node() { curl -fsS --max-time 2 --unix-socket "$(node_sock "$1")" http://localhost/_ping >/dev/null 2>&1; }

# True while PID is a live (non-zombie) process whose command is $2.
pid_is() {
  [[ $1 =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] && pid_alive "$1"
}

ns_exists() { [ -e "/run/netns/$1" ]; }
ns_pids() { ns_exists "$1" && ip netns pids "$1" 2>/dev/null || true; }

# PIDs of node K's dockerd: its pidfile (if it still names a dockerd) plus any dockerd in its netns.
dockerd_pids() {
  local k=$1 pid
  {
    pid=$(cat "$(node_dir "$k")/docker.pid" 2>/dev/null || true)
    if pid_is "$pid" dockerd; then echo "$pid"; fi
    for pid in $(ns_pids "$(node_ns "$k")"); do
      if pid_is "$pid" dockerd; then echo "$pid"; fi
    done
  } | sort -un
}

# Every process left over from node K: anything in its netns (containerd, shims, host-network
# tasks) and anything in its cgroup tree (task containers, which have netns of their own).
leftover_pids() {
  local k=$1
  {
    ns_pids "$(node_ns "$k")"
    cgroup_procs "$(node_ns "$k")" # node K's cgroup-parent
  } | sort -un
}

# Kill whatever node K left behind once its dockerd is gone, and remove its cgroup dirs.
reap_node() {
  local k=$1 pids i
  for i in 1 2 3 4 5; do
    pids=$(leftover_pids "$k")
    [ -z "$pids" ] && break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    # shellcheck disable=SC2086
    wait_pids_gone 5 $pids || true
  done
  pids=$(leftover_pids "$k")
  [ -z "$pids" ] || say "warning: node $k: processes still alive: $pids"
  rm_cgroup_dirs "$(node_ns "$k")"
}

# SIGTERM the dockerds of the given nodes, wait for those PIDs, SIGKILL after STOP_TIMEOUT s,
# then reap leftovers. All nodes are stopped in parallel.
stop_nodes() {
  local k pid all=() killed=0
  for k in "$@"; do
    for pid in $(dockerd_pids "$k"); do all+=("$pid"); done
  done
  if [ "${#all[@]}" -gt 0 ]; then
    kill -TERM "${all[@]}" 2>/dev/null || true
    if ! wait_pids_gone "$STOP_TIMEOUT" "${all[@]}"; then
      say "dockerd did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "${all[@]}" 2>/dev/null || true
      wait_pids_gone 10 "${all[@]}" || say "warning: dockerd PIDs still alive: ${all[*]}"
      killed=1
    fi
  fi
  for k in "$@"; do
    reap_node "$k"
    [ "$killed" = 1 ] && rm -f "$(node_dir "$k")/docker.pid"
  done
  return 0
}

# Start node K's dockerd (namespaces and config must exist). Returns at once; see wait_ready.
launch_node() {
  local k=$1 d
  d=$(node_dir "$k")
  mkdir -p "$d/exec" "$d/data"
  rm -f "$d/docker.pid"
  # setsid: own session; fds: nothing of ours (incl. the lock on fd 9) is inherited.
  # ip netns exec gives the netns (and a fresh /sys), unshare the private mount + UTS namespaces;
  # "$SELF __node-exec" then prepares the mounts and execs dockerd (so $! becomes dockerd).
  env -i PATH="$PATH" HOME=/root LANG=C SWARM_LAB_DIR="$LAB" \
    setsid ip netns exec "$(node_ns "$k")" \
    unshare --mount --uts --propagation private -- \
    "$SELF" __node-exec "$k" </dev/null >>"$d/dockerd.log" 2>&1 9>&- &
  echo $! >"$d/launch.pid"
}

# Runs inside node K's namespaces: fix up mounts, set the hostname, exec dockerd.
node_exec() {
  local k=$1 d mp type opts
  d=$(node_dir "$k")
  echo "src-node$k" >/proc/sys/kernel/hostname
  # Drop this namespace's copies of the main engine's (and netns) mounts: they would pin the main
  # engine's container filesystems and network namespaces for as long as the node lives.
  awk '{ print $2 }' /proc/self/mounts | tac | while read -r mp; do
    case "$mp" in
      /var/lib/docker | /var/lib/docker/* | /run/docker | /run/docker/* | /run/containerd | /run/containerd/* | \
        /var/lib/containerd | /var/lib/containerd/* | /run/netns | /run/netns/*)
        umount -l "$mp" 2>/dev/null || true ;;
    esac
  done
  # `ip netns exec` mounted a fresh /sys: re-create the host's cgroup mounts (recorded by `up`).
  while read -r type opts mp; do
    [ -n "$mp" ] || continue
    [ "$mp" = /sys/fs/cgroup ] || mkdir -p "$mp"
    mount -t "$type" -o "$opts" "$type" "$mp"
  done <"$LAB/cgroup-mounts"
  while read -r mp target; do
    [ -n "$mp" ] && ln -sfn "$target" "$mp"
  done <"$LAB/cgroup-links"
  # Private runtime dirs: containerd puts shim sockets in /run/containerd whatever its state dir
  # (and dockerd would use a system containerd whose socket it finds there).
  mkdir -p /run/containerd
  mount -t tmpfs -o mode=0711 swarm-lab /run/containerd
  [ -d /run/docker ] && mount -t tmpfs -o mode=0711 swarm-lab /run/docker
  # dockerd 20.10 writes some network state to /var/lib/docker/network whatever its data root:
  # give each node its own (persistent) /var/lib/docker, never the main engine's.
  mkdir -p "$d/var-lib-docker" /var/lib/docker
  mount --bind "$d/var-lib-docker" /var/lib/docker
  mount -t tmpfs -o mode=0711 swarm-lab "$d/exec"
  exec dockerd --config-file "$d/daemon.json"
}

# Wait until every node given answers on its socket (or its dockerd died). Timeout 60 s.
wait_ready() {
  local k pending=("$@") still i pid
  for i in $(seq 1 600); do
    still=()
    for k in "${pending[@]}"; do
      if ping_node "$k"; then continue; fi
      pid=$(cat "$(node_dir "$k")/launch.pid" 2>/dev/null || true)
      if ! pid_alive "$pid" && ! [ -n "$(dockerd_pids "$k")" ]; then
        echo "--- $(node_dir "$k")/dockerd.log (tail) ---" >&2
        tail -n 25 "$(node_dir "$k")/dockerd.log" >&2 || true
        die "node $k: dockerd exited during start-up"
      fi
      still+=("$k")
    done
    [ "${#still[@]}" = 0 ] && return 0
    pending=("${still[@]}")
    sleep 0.1
  done
  die "node(s) ${pending[*]} did not answer within 60 s; see $LAB/node*/dockerd.log"
}

lab_nodes() { cat "$LAB/nodes" 2>/dev/null || true; }

# 0 if the lab in $LAB is up with N nodes, all dockerds alive, all nodes Ready in the swarm.
lab_healthy() {
  local n k ready
  n=$(lab_nodes)
  [[ $n =~ ^[0-9]+$ ]] || return 1
  [ -f "$LAB/facility.json" ] || return 1
  for k in $(seq 1 "$n"); do
    [ -n "$(dockerd_pids "$k")" ] || return 1
    ping_node "$k" || return 1
  done
  ready=$(dk 1 node ls --format '{{.Hostname}} {{.Status}}' 2>/dev/null) || return 1
  [ "$(grep -c . <<<"$ready")" = "$n" ] || return 1
  for k in $(seq 1 "$n"); do grep -qx "src-node$k Ready" <<<"$ready" || return 1; done
}

lab_exists() {
  [ -e "$LAB" ] && return 0
  ip netns list 2>/dev/null | awk '{ print $1 }' | grep -Eq "^$PFX-(sw|n[0-9]+)$"
}

lock() {
  exec 9>"/run/lock/src-swarm-lab.$PFX.lock"
  flock -w 300 9 || die "another swarm-lab command holds /run/lock/src-swarm-lab.$PFX.lock"
}

# ---------------------------------------------------------------------------------------------
cmd_up() {
  local n=3 t0 t k tok pids=() loads=() save_pid="" have_images=() img
  while [ $# -gt 0 ]; do
    case "$1" in
      --nodes) n=${2:-}; shift 2 || die "--nodes needs a value" ;;
      --nodes=*) n=${1#--nodes=}; shift ;;
      *) die "up: unknown argument '$1'" ;;
    esac
  done
  [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 50 ] || die "--nodes must be 1..50"
  lock
  t0=$(now)
  if lab_healthy; then
    if [ "$(lab_nodes)" = "$n" ]; then
      say "lab already up and healthy ($n nodes, manager unix://$(node_sock 1)); nothing to do"
      say "facility: $LAB/facility.json"
      return 0
    fi
    die "lab is up with $(lab_nodes) nodes, not $n; run '$0 down' first"
  fi
  if [ -d "$LAB" ] && [ ! -e "$LAB/.swarm-lab" ] && [ -n "$(ls -A "$LAB")" ]; then
    die "$LAB exists and is not a swarm-lab directory; set SWARM_LAB_DIR elsewhere"
  fi
  if lab_exists; then
    say "found a partial or unhealthy lab in $LAB; tearing it down first"
    do_down
    t0=$(now)
  fi

  # Pre-flight (before creating anything).
  [ "$(id -u)" = 0 ] || die "must run as root"
  for c in dockerd ip unshare setsid curl flock; do command -v "$c" >/dev/null || die "missing command: $c"; done
  case "$LAB/" in /var/lib/docker/* | /run/docker/* | /var/run/docker/* | /run/containerd/*) die "SWARM_LAB_DIR must not be under $LAB" ;; esac
  case "$LAB" in *'"'* | *'\'* | *' '*) die "SWARM_LAB_DIR must not contain quotes, backslashes or spaces" ;; esac
  for img in "${IMAGES[@]}"; do
    main_dk image inspect "$img" >/dev/null 2>&1 ||
      die "the main engine ($MAIN_ENGINE) has no $img; run 'bash scripts/build-test-images.sh'"
    have_images+=("$img")
  done
  for img in "${OPTIONAL_IMAGES[@]}"; do
    if main_dk image inspect "$img" >/dev/null 2>&1; then have_images+=("$img"); fi
  done
  local extra=()
  read -ra extra <<<"${SWARM_LAB_IMAGES:-}"
  for img in "${extra[@]}"; do
    main_dk image inspect "$img" >/dev/null 2>&1 ||
      die "SWARM_LAB_IMAGES: the main engine ($MAIN_ENGINE) has no $img; run 'bash scripts/build-test-images.sh'"
    have_images+=("$img")
  done

  trap 'echo "swarm-lab: up failed; state left in $LAB for inspection (logs: $LAB/node*/dockerd.log); run \"$0 down\" (the next up also cleans up)" >&2' EXIT
  mkdir -p "$LAB"
  : >"$LAB/.swarm-lab"
  echo "$n" >"$LAB/nodes"
  if ! mountpoint -q /run/netns 2>/dev/null; then
    if [ -d /run/netns ]; then echo mount >"$LAB/.created-run-netns"; else echo dir >"$LAB/.created-run-netns"; fi
  fi
  # The host's cgroup mounts and symlinks, re-created inside each node (see node_exec).
  awk '$2 == "/sys/fs/cgroup" || index($2, "/sys/fs/cgroup/") == 1 { print $3, $4, $2 }' /proc/self/mounts >"$LAB/cgroup-mounts"
  find /sys/fs/cgroup -maxdepth 1 -type l -printf '%p %l\n' >"$LAB/cgroup-links" 2>/dev/null || : >"$LAB/cgroup-links"

  # Images: save once from the main engine, in the background while the nodes start.
  main_dk save -o "$LAB/images.tar" "${have_images[@]}" &
  save_pid=$!

  # Network: a bridge in a private switch netns; one veth pair per node (created inside the
  # namespaces, so nothing ever appears in the host's).
  ip netns add "$SW_NS"
  ip -n "$SW_NS" link set lo up
  ip -n "$SW_NS" link add br0 type bridge
  ip -n "$SW_NS" link set br0 up
  for k in $(seq 1 "$n"); do
    ip netns add "$(node_ns "$k")"
    ip -n "$SW_NS" link add "n$k" type veth peer name eth0 netns "$(node_ns "$k")"
    ip -n "$SW_NS" link set "n$k" master br0 up
    ip -n "$(node_ns "$k")" link set lo up
    ip -n "$(node_ns "$k")" addr add "$SUBNET.$k/24" dev eth0
    ip -n "$(node_ns "$k")" link set eth0 up
  done

  # Per-node config (everything in the file, nothing read from /etc/docker/daemon.json).
  for k in $(seq 1 "$n"); do
    local d; d=$(node_dir "$k")
    mkdir -p "$d/data" "$d/exec"
    cat >"$d/daemon.json" <<EOF
{
  "hosts": ["unix://$d/docker.sock"],
  "data-root": "$d/data",
  "exec-root": "$d/exec",
  "pidfile": "$d/docker.pid",
  "deprecated-key-path": "$d/key.json",
  "cgroup-parent": "/$(node_ns "$k")"
}
EOF
    launch_node "$k"
  done
  t=$(now)
  wait_ready $(seq 1 "$n")
  say "daemons answering after $(since "$t0")s"

  # Load images into every node, in parallel with the swarm set-up.
  wait "$save_pid" || die "docker save from the main engine failed"
  for k in $(seq 1 "$n"); do
    dk "$k" load -q -i "$LAB/images.tar" >/dev/null &
    loads+=($!)
  done

  t=$(now)
  dk 1 swarm init --advertise-addr "$SUBNET.1" --listen-addr "$SUBNET.1:2377" \
    --dispatcher-heartbeat 1s >/dev/null
  tok=$(dk 1 swarm join-token -q worker)
  for k in $(seq 2 "$n"); do
    dk "$k" swarm join --token "$tok" --advertise-addr "$SUBNET.$k" --listen-addr "$SUBNET.$k:2377" \
      "$SUBNET.1:2377" >/dev/null &
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k" || die "swarm join failed; see $LAB/node*/dockerd.log"; done
  local ok=0 i
  for i in $(seq 1 300); do
    if [ "$(dk 1 node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$')" = "$n" ]; then ok=1; break; fi
    sleep 0.1
  done
  [ "$ok" = 1 ] || die "not all $n nodes became Ready; see '$0 status'"
  say "swarm formed in $(since "$t")s"
  for k in "${loads[@]}"; do wait "$k" || die "docker load into a node failed"; done
  rm -f "$LAB/images.tar"
  trap - EXIT

  {
    printf '{\n  "manager": "unix://%s",\n  "nodes": {\n' "$(node_sock 1)"
    for k in $(seq 1 "$n"); do
      printf '    "src-node%s": "unix://%s"%s\n' "$k" "$(node_sock "$k")" "$([ "$k" = "$n" ] && echo || echo ,)"
    done
    printf '  }\n}\n'
  } >"$LAB/facility.json"

  say "up: $n nodes in $(since "$t0")s (images: ${have_images[*]})"
  say "manager: unix://$(node_sock 1)   facility: $LAB/facility.json"
  dk 1 node ls
}

do_down() {
  local t0 k ks=() mp
  t0=$(now)
  if ! lab_exists; then say "nothing to tear down"; return 0; fi
  # Node numbers: from the namespaces and the lab dir (either may be missing after a failed up).
  mapfile -t ks < <({
    ip netns list 2>/dev/null | awk '{ print $1 }' | sed -n "s/^$PFX-n\([0-9][0-9]*\)\$/\1/p"
    for d in "$LAB"/node*; do [ -d "$d" ] && echo "${d##*/node}"; done
  } | grep -E '^[0-9]+$' | sort -un)
  [ "${#ks[@]}" -gt 0 ] && stop_nodes "${ks[@]}"
  for k in "${ks[@]}"; do
    if ns_exists "$(node_ns "$k")"; then ip netns del "$(node_ns "$k")"; fi
  done
  if ns_exists "$SW_NS"; then ip netns del "$SW_NS"; fi
  # Nothing should be mounted under the lab dir in the host's namespace; make sure of it before rm.
  awk -v p="$LAB" '$2 == p || index($2, p "/") == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r mp; do
    umount -l "$mp" || true
  done
  if [ -f "$LAB/.created-run-netns" ] && [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
    while mountpoint -q /run/netns; do umount /run/netns || break; done
    [ "$(cat "$LAB/.created-run-netns")" = dir ] && rmdir /run/netns 2>/dev/null || true
  fi
  if [ -n "$(awk -v p="$LAB" '$2 == p || index($2, p "/") == 1' /proc/self/mounts)" ]; then
    die "mounts remain under $LAB; not deleting it"
  fi
  if [ -e "$LAB/.swarm-lab" ] || [ -z "$(ls -A "$LAB" 2>/dev/null)" ]; then
    rm -rf "$LAB"
  elif [ -e "$LAB" ]; then
    say "warning: $LAB is not a swarm-lab directory; left in place"
  fi
  say "down in $(since "$t0")s"
}

cmd_down() { lock; do_down; }

cmd_status() {
  local n k pid
  n=$(lab_nodes)
  if [[ ! $n =~ ^[0-9]+$ ]]; then say "no lab in $LAB"; return 1; fi
  for k in $(seq 1 "$n"); do
    pid=$(dockerd_pids "$k" | head -n1)
    if [ -n "$pid" ] && ping_node "$k"; then s="up (dockerd pid $pid)"; elif [ -n "$pid" ]; then s="starting/stopping (pid $pid)"; else s=stopped; fi
    printf 'node%s  src-node%s  %-28s unix://%s\n' "$k" "$k" "$s" "$(node_sock "$k")"
  done
  echo
  dk 1 node ls
}

node_arg() {
  local k=${1:-} n
  n=$(lab_nodes)
  [[ $n =~ ^[0-9]+$ ]] || die "no lab in $LAB (run '$0 up')"
  [[ $k =~ ^[0-9]+$ ]] && [ "$k" -ge 1 ] && [ "$k" -le "$n" ] || die "node number must be 1..$n"
}

cmd_stop_node() {
  local k=${1:-} t0
  node_arg "$k"
  lock
  t0=$(now)
  if [ -z "$(dockerd_pids "$k")" ]; then say "node $k is not running"; reap_node "$k"; return 0; fi
  stop_nodes "$k"
  say "node $k (src-node$k) stopped in $(since "$t0")s"
}

cmd_start_node() {
  local k=${1:-} t0
  node_arg "$k"
  lock
  t0=$(now)
  if [ -n "$(dockerd_pids "$k")" ]; then
    ping_node "$k" && { say "node $k is already running"; return 0; }
    die "node $k has a dockerd that does not answer; run stop-node $k first"
  fi
  ns_exists "$(node_ns "$k")" && [ -f "$(node_dir "$k")/daemon.json" ] || die "node $k's namespace/config is missing; run '$0 down' and '$0 up'"
  reap_node "$k"
  launch_node "$k"
  wait_ready "$k"
  say "node $k (src-node$k) answering after $(since "$t0")s"
}

usage() { sed -n '2,22p' "$SELF" | sed 's/^# \{0,1\}//'; }

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  stop-node) cmd_stop_node "${2:-}" ;;
  start-node) cmd_start_node "${2:-}" ;;
  __node-exec) node_exec "$2" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
