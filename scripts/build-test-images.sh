#!/usr/bin/env bash
# Build the local test images from Debian's busybox-static (no image can be pulled here):
#   src-test/busybox:latest  a shell loop that exits at once on SIGTERM (stops take milliseconds)
#   src-test/httpd:latest    busybox httpd serving /www on port 80 (EXPOSE 80/tcp)
#   src-test/wsecho:latest   a WebSocket echo app on port 8080 (node, test/fixtures/wsecho/echo.mjs)
# Idempotent: an image that exists is left alone unless FORCE=1.
set -euo pipefail
DOCKER=${DOCKER:-docker}

if ! [ -x /bin/busybox ] || ! /bin/busybox --list >/dev/null 2>&1 || ! file -L /bin/busybox 2>/dev/null | grep -q static; then
  if ! dpkg -s busybox-static >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
    else
      echo "build-test-images: install Debian's busybox-static first" >&2; exit 1
    fi
  fi
fi

have() { [ "${FORCE:-0}" != 1 ] && $DOCKER image inspect "$1" >/dev/null 2>&1; }

rootfs() {
  local dir; dir=$(mktemp -d)
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/www" "$dir/etc"
  cp /bin/busybox "$dir/bin/busybox"
  for a in sh sleep httpd cat echo ls env true wc head dd; do ln -s busybox "$dir/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/etc/passwd"
  echo '<h1>src-test httpd</h1>' > "$dir/www/index.html"
  echo "$dir"
}

# JSON-form CMDs (the inner double quotes escaped for JSON): a shell that exits on TERM.
loop='trap \"exit 0\" TERM INT; while :; do sleep 1 & wait $!; done'
if ! have src-test/busybox:latest; then
  d=$(rootfs)
  tar -C "$d" -c . | $DOCKER import \
    -c "CMD [\"/bin/sh\", \"-c\", \"$loop\"]" -c 'ENV PATH=/bin' \
    -m 'SRC Container API test image' - src-test/busybox:latest >/dev/null
  rm -rf "$d"; echo "built src-test/busybox:latest"
fi
if ! have src-test/httpd:latest; then
  d=$(rootfs)
  tar -C "$d" -c . | $DOCKER import \
    -c 'CMD ["/bin/sh", "-c", "trap \"exit 0\" TERM INT; httpd -f -p 80 -h /www & wait $!"]' \
    -c 'EXPOSE 80/tcp' -c 'ENV PATH=/bin' \
    -m 'SRC Container API test web app' - src-test/httpd:latest >/dev/null
  rm -rf "$d"; echo "built src-test/httpd:latest"
fi
# src-test/wsecho: a WebSocket echo app on 8080 (test/fixtures/wsecho/echo.mjs) run by this
# machine's node binary and the shared libraries it links (ldd); no image can be pulled here.
if ! have src-test/wsecho:latest; then
  node_bin=$(readlink -f "$(command -v node)")
  d=$(mktemp -d)
  mkdir -p "$d/bin" "$d/srv" "$d/tmp" "$d/etc"
  cp "$node_bin" "$d/bin/node"
  for lib in $(ldd "$node_bin" | grep -o '/[^ ]*' | sort -u); do
    mkdir -p "$d$(dirname "$lib")"; cp -L "$lib" "$d$lib"
  done
  cp "$(dirname "$0")/../test/fixtures/wsecho/echo.mjs" "$d/srv/echo.mjs"
  echo 'nobody:x:65534:65534:nobody:/tmp:/bin/node' > "$d/etc/passwd"
  tar -C "$d" -c . | $DOCKER import \
    -c 'CMD ["/bin/node", "/srv/echo.mjs"]' -c 'EXPOSE 8080/tcp' -c 'USER 65534:65534' -c 'ENV PATH=/bin' \
    -m 'SRC Container API test WebSocket echo app' - src-test/wsecho:latest >/dev/null
  rm -rf "$d"; echo "built src-test/wsecho:latest"
fi
