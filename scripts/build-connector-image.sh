#!/usr/bin/env bash
# Builds the swarm gateway's connector image offline (nothing can be pulled here):
#   src-container-api/connector:latest   this machine's Debian socat and the shared libraries
#                                         it links (ldd), FROM scratch, running as 65534:65534
# The API starts one connector per opened swarm app (core/gateway/connector.ts):
#   socat UNIX-LISTEN:/sockets/APP.sock,fork,mode=600 TCP:SERVICE:PORT
# Usage: scripts/build-connector-image.sh [REF]    (default src-container-api/connector:latest)
# Idempotent: an image that exists is left alone unless FORCE=1. Prints the image reference.
# A production alternative (a registry-pullable image) is the Dockerfile in README ("Open your app").
set -euo pipefail
DOCKER=${DOCKER:-docker}
REF=${1:-src-container-api/connector:latest}

if [ "${FORCE:-0}" != 1 ] && $DOCKER image inspect "$REF" >/dev/null 2>&1; then echo "$REF"; exit 0; fi
SOCAT=$(command -v socat || true)
[ -n "$SOCAT" ] || { echo "build-connector-image: install Debian's socat first (scripts/ensure-test-deps.sh)" >&2; exit 1; }
SOCAT=$(readlink -f "$SOCAT")

d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
mkdir -p "$d/bin" "$d/etc" "$d/sockets" "$d/tmp"
cp "$SOCAT" "$d/bin/socat"
for lib in $(ldd "$SOCAT" | grep -o '/[^ ]*' | sort -u); do
  mkdir -p "$d$(dirname "$lib")"; cp -L "$lib" "$d$lib"
done
# glibc 2.34+ has the files and dns NSS modules built in; say which to use
echo 'hosts: files dns' >"$d/etc/nsswitch.conf"
echo 'nobody:x:65534:65534:nobody:/tmp:/bin/socat' >"$d/etc/passwd"
echo 'nogroup:x:65534:' >"$d/etc/group"
tar -C "$d" --numeric-owner -c . | $DOCKER import \
  -c 'ENTRYPOINT ["/bin/socat"]' -c 'USER 65534:65534' -c 'ENV PATH=/bin' \
  -c 'LABEL io.src-container-api.helper=connector' \
  -m 'SRC Container API swarm gateway connector (socat)' - "$REF" >/dev/null
echo "$REF"
