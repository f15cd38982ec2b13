#!/usr/bin/env bash
# Make sure a Docker Engine answers on DOCKER_HOST (default unix:///var/run/docker.sock).
# If none answers and this is Debian/Ubuntu as root, install docker.io and start dockerd in the
# background (no systemd needed), then wait for the socket. Otherwise print what to do and fail.
# Idempotent: safe to run before every `npm start` / `npm test`.
set -euo pipefail

sock="${DOCKER_HOST:-unix:///var/run/docker.sock}"
case "$sock" in
  unix://*) sock_path="${sock#unix://}" ;;
  *) echo "ensure-engine: DOCKER_HOST=$sock is not a local socket; assuming it is managed elsewhere"; exit 0 ;;
esac

ping() { curl -fsS --max-time 3 --unix-socket "$sock_path" http://localhost/_ping >/dev/null 2>&1; }

if ping; then exit 0; fi

if [ "$(id -u)" != 0 ]; then
  echo "ensure-engine: no Docker Engine at $sock_path and not root." >&2
  echo "  Start one (e.g. 'sudo systemctl start docker') or set DOCKER_HOST." >&2
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "ensure-engine: installing docker.io (Debian package)..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq docker.io >/dev/null
  else
    echo "ensure-engine: dockerd is not installed and this is not a Debian/Ubuntu machine." >&2
    echo "  Install Docker Engine (https://docs.docker.com/engine/install/) and start it." >&2
    exit 1
  fi
fi

# A dockerd killed earlier can leave its pidfile behind; a new one then refuses to start.
pidfile=/var/run/docker.pid
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -z "$pid" ] || ! grep -qs dockerd "/proc/$pid/comm"; then rm -f "$pidfile"; fi
fi
if [ -S /run/containerd/containerd.sock ] && ! pgrep -x containerd >/dev/null; then
  rm -f /run/containerd/containerd.sock
fi

# Only the machine's own dockerd counts (private test engines and swarm-lab nodes use their own
# pidfiles and sockets): start one unless the default pidfile names a live dockerd.
if ! [ -f "$pidfile" ]; then
  mkdir -p /var/log
  echo "ensure-engine: starting dockerd (log: /var/log/dockerd.log)"
  setsid dockerd >>/var/log/dockerd.log 2>&1 < /dev/null &
fi

for _ in $(seq 1 120); do
  if ping; then echo "ensure-engine: Docker Engine is up at $sock_path"; exit 0; fi
  sleep 0.5
done
echo "ensure-engine: dockerd did not answer within 60 s; see /var/log/dockerd.log" >&2
exit 1
