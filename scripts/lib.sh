# Process and cgroup helpers shared by scripts/private-engine.sh and scripts/swarm-lab.sh
# (sourced; bash). They only read /proc and the cgroup mounts, and remove empty cgroup dirs.

# True while PID is a live (non-zombie) process.
pid_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# wait_pids_gone SECONDS PID...: poll (they are not our children) until every PID is gone;
# returns 1 on timeout.
wait_pids_gone() {
  local timeout=$1; shift
  local deadline pid live
  deadline=$((${EPOCHREALTIME/./} + timeout * 1000000))
  while :; do
    live=0
    for pid in "$@"; do if pid_alive "$pid"; then live=1; break; fi; done
    [ "$live" = 0 ] && return 0
    [ "${EPOCHREALTIME/./}" -ge "$deadline" ] && return 1
    sleep 0.1
  done
}

# cgroup_dirs NAME: the directories NAME in every cgroup (v1 hierarchies and/or v2) mount.
cgroup_dirs() {
  local mp
  awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts | while read -r mp; do
    [ -d "$mp/$1" ] && echo "$mp/$1"
  done
  return 0
}

# cgroup_procs NAME: every PID in the cgroup trees NAME, one per line.
cgroup_procs() {
  local d
  for d in $(cgroup_dirs "$1"); do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null || true; done
}

# rm_cgroup_dirs NAME: removes the (empty) cgroup trees NAME.
rm_cgroup_dirs() {
  local d
  for d in $(cgroup_dirs "$1"); do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true; done
}
