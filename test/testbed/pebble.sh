#!/bin/bash
# An ACME server for the testbed: Pebble and its challenge test server (both built from Pebble's Go
# module, cached) on this machine, at the bridge address the test hosts reach. Pebble validates
# HTTP-01 and TLS-ALPN-01 on the hosts' ports 80 and 443 and resolves names through the challenge
# test server's DNS, whose A records tests set (POST http://GATEWAY:8055/add-a). Its own HTTPS
# certificate comes from a small CA made here (pebble/ca.pem: the directory's root, what Caddy is
# told to trust); the certificates it issues chain to a root it makes at each start
# (https://GATEWAY:15000/roots/0).
#   pebble.sh up     build if needed, start both
#   pebble.sh down   stop both
set -euo pipefail
source "$(dirname "$0")/env.sh"
PEBBLE_VERSION=v2.10.3
DIR="$CACHE/pebble"
PEBBLE="$DIR/pebble-$PEBBLE_VERSION"
CHALLTESTSRV="$DIR/pebble-challtestsrv-$PEBBLE_VERSION"

# The CA of Pebble's own HTTPS listener, and its certificate for the gateway's address.
listener_certificate() {
  [ -f "$DIR/listener.pem" ] && return
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj /CN=rigger-testbed-acme-ca \
    -keyout "$DIR/ca.key" -out "$DIR/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=pebble -keyout "$DIR/listener.key" -out "$DIR/listener.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s,DNS:pebble\n' "$GATEWAY" >"$DIR/listener.ext"
  openssl x509 -req -in "$DIR/listener.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" -CAcreateserial -days 3650 \
    -extfile "$DIR/listener.ext" -out "$DIR/listener.pem" 2>/dev/null
}


up() {
  mkdir -p "$DIR"
  go_build "github.com/letsencrypt/pebble/v2/cmd/pebble@$PEBBLE_VERSION" "$PEBBLE" pebble-build
  go_build "github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@$PEBBLE_VERSION" "$CHALLTESTSRV" pebble-challtestsrv-build
  listener_certificate
  cat >"$DIR/pebble.json" <<JSON
{"pebble": {"listenAddress": "$GATEWAY:14000", "managementListenAddress": "$GATEWAY:15000",
  "certificate": "$DIR/listener.pem", "privateKey": "$DIR/listener.key",
  "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
  down
  # Names resolve only as tests set them: no default address, no IPv6 answer.
  setsid nohup "$CHALLTESTSRV" -management "$GATEWAY:8055" -dnsserver "$GATEWAY:8053" -defaultIPv4 "" -defaultIPv6 "" \
    -http01 "" -https01 "" -tlsalpn01 "" -doh "" \
    >"$DIR/challtestsrv.log" 2>&1 </dev/null &
  echo $! >"$DIR/challtestsrv.pid"
  # No sleeps before validating, every nonce accepted: tests wait for nothing but the real exchange.
  PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 setsid nohup "$PEBBLE" -config "$DIR/pebble.json" -dnsserver "$GATEWAY:8053" \
    >"$DIR/pebble.log" 2>&1 </dev/null &
  echo $! >"$DIR/pebble.pid"
  for _ in $(seq 100); do
    curl -sf --cacert "$DIR/ca.pem" "https://$GATEWAY:14000/dir" >/dev/null && curl -s -o /dev/null "http://$GATEWAY:8055/" && return
    sleep 0.1
  done
  die "Pebble did not start; see $DIR/pebble.log and $DIR/challtestsrv.log"
}

down() {
  local pid
  for pid in "$DIR/pebble.pid" "$DIR/challtestsrv.pid"; do
    [ -f "$pid" ] && { kill "$(cat "$pid")" 2>/dev/null || true; rm -f "$pid"; }
  done
  return 0
}

cmd=${1:-}; shift || true
case "$cmd" in
  up) up ;;
  down) down ;;
  *) die "usage: pebble.sh up | down" ;;
esac
