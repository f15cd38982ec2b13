#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing (root on
# Debian/Ubuntu): busybox-static (test images), docker-registry and apache2-utils (a real
# registry with htpasswd auth), nginx (the reverse proxy of test/e2e/proxy.test.ts), chromium
# (/usr/bin/chromium, driven by playwright-core in test/e2e/docs-page.test.ts, test/e2e/gateway.test.ts and the
# dashboard tests), slapd and ldap-utils (a real OpenLDAP server for the identity tests, test/identity-ldap.test.ts),
# socat (the swarm gateway's connector image, scripts/build-connector-image.sh). The Engine
# itself is handled by ensure-engine.sh.
set -euo pipefail
need=()
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/sbin/slapd ] || need+=(slapd)
command -v ldapadd >/dev/null 2>&1 || need+=(ldap-utils)
command -v socat >/dev/null 2>&1 || need+=(socat)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "ensure-test-deps: please install: ${need[*]}" >&2
  exit 1
fi
