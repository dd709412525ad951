#!/bin/bash
# The faulty-network layer: Toxiproxy (built from its Go module, cached) on this machine, with one
# proxy per test host's SSH port, 127.0.0.1:$((22000 + N)) -> thN:22. Tests add toxics through its
# API on 127.0.0.1:8474 (latency, bandwidth, timeout, limit_data, reset_peer).
#   toxiproxy.sh up NAME...   start the server if needed and (re)create the hosts' proxies
#   toxiproxy.sh down         stop the server
set -euo pipefail
source "$(dirname "$0")/env.sh"
TOXIPROXY_VERSION=v2.5.0
API=127.0.0.1:8474
BIN="$CACHE/toxiproxy-server-$TOXIPROXY_VERSION"
PIDFILE="$CACHE/toxiproxy.pid"

up() {
  go_build "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" "$BIN" toxiproxy-build
  if ! curl -sf "http://$API/version" >/dev/null; then
    setsid nohup "$BIN" -host 127.0.0.1 -port 8474 >"$CACHE/toxiproxy.log" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    for _ in $(seq 50); do curl -sf "http://$API/version" >/dev/null && break; sleep 0.1; done
    curl -sf "http://$API/version" >/dev/null || die "Toxiproxy did not start; see $CACHE/toxiproxy.log"
  fi
  local name
  for name in "$@"; do
    curl -sf -X DELETE "http://$API/proxies/$name-ssh" >/dev/null 2>&1 || true
    curl -sf -X POST "http://$API/proxies" -H 'Content-Type: application/json' \
      -d "{\"name\": \"$name-ssh\", \"listen\": \"127.0.0.1:$(toxiproxy_port "$name")\", \"upstream\": \"$(host_ip "$name"):22\"}" >/dev/null ||
      die "creating the Toxiproxy proxy for $name failed"
  done
}

down() {
  if [ -f "$PIDFILE" ]; then
    kill "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -f "$PIDFILE"
  fi
}

cmd=${1:-}; shift || true
case "$cmd" in
  up) up "$@" ;;
  down) down ;;
  *) die "usage: toxiproxy.sh up NAME... | down" ;;
esac
