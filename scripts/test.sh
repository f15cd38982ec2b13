#!/usr/bin/env bash
# The test command (`npm test`): both vitest projects (vitest.config.ts), in two steps.
#  1. The unit lane, with no Engine to reach: DOCKER_HOST on a closed socket and, as root where
#     `unshare` works, the Engine's socket (/var/run/docker.sock, and the caller's DOCKER_HOST)
#     hidden in a private mount namespace. This proves the lane needs no Engine; it needs no
#     set-up either, so it runs first and fails fast.
#  2. Make sure an Engine runs, the Debian packages the tests need are installed and the local
#     test images exist, then run the engine lane.
# With arguments (a file filter, `--project engine`, ...), step 2's set-up and one vitest run
# with those arguments, over both lanes unless they name a project (`npm run test:engine`).
set -euo pipefail
cd "$(dirname "$0")/.."

CLOSED_SOCKET=unix:///nonexistent/closed.sock

# Step 1: the unit lane without an Engine.
unit_lane_without_engine() {
  local hide=() p
  for p in /var/run/docker.sock "${DOCKER_HOST:-}"; do
    p="${p#unix://}"
    [ -S "$p" ] && hide+=("$p")
  done
  echo "test: unit lane, DOCKER_HOST=$CLOSED_SOCKET${hide[*]:+, hidden: ${hide[*]}}"
  if [ ${#hide[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
    DOCKER_HOST=$CLOSED_SOCKET unshare -m --propagation private bash -c '
      for p in "$@"; do mount --bind /dev/null "$p" || { echo "test: could not hide $p" >&2; exit 1; }; done
      exec npx vitest run --project unit' hide "${hide[@]}"
  else
    DOCKER_HOST=$CLOSED_SOCKET npx vitest run --project unit
  fi
}

if [ $# -eq 0 ]; then
  unit_lane_without_engine
  set -- --project engine
fi

# Step 2: the engine lane (or whatever the arguments select).
bash scripts/ensure-engine.sh
bash scripts/ensure-test-deps.sh
bash scripts/build-test-images.sh
bash scripts/build-connector-image.sh >/dev/null
exec npx vitest run "$@"
