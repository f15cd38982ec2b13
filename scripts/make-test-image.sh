#!/usr/bin/env bash
# Builds a test image with layers of random bytes on top of src-test/busybox:latest, so a pull of
# it really downloads something (random data does not compress):
#   scripts/make-test-image.sh REF KB [KB ...]    one layer of KB kilobytes per argument
# Uses the docker CLI's classic builder (DOCKER_BUILDKIT=0: the Engine here is 20.10); the build
# context lives in a temp dir that is removed again. Prints the image ID.
set -euo pipefail
DOCKER=${DOCKER:-/usr/local/bin/docker}
[ -x "$DOCKER" ] || DOCKER=docker
ref=${1:?usage: make-test-image.sh REF KB [KB ...]}
shift
[ $# -gt 0 ] || { echo "make-test-image: give at least one layer size in KB" >&2; exit 2; }
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
{
  echo 'FROM src-test/busybox:latest'
  i=0
  for kb in "$@"; do
    head -c "$((kb * 1024))" /dev/urandom >"$ctx/layer$i.bin"
    echo "COPY layer$i.bin /data/layer$i.bin"
    i=$((i + 1))
  done
} >"$ctx/Dockerfile"
DOCKER_BUILDKIT=0 "$DOCKER" build -q --rm --force-rm -t "$ref" "$ctx" 2>/dev/null | tail -1
