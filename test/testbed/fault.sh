#!/bin/bash
# Faults on demand for the real-host suites.
#   fault.sh stop HOST | start HOST     halt the host (systemd shutdown) / boot it and wait for 'running'
#   fault.sh cut HOST | restore HOST    take the host off the test network / put it back, same address
#   fault.sh loss HOST PERCENT          drop PERCENT of the host's packets, both ways (nftables)
#   fault.sh clear HOST                 remove the packet loss
# Latency: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM is off), so tests add latency with
# the TCP relay of testbed.ts instead.
set -euo pipefail
source "$(dirname "$0")/env.sh"

cmd=${1:-}; name=${2:-}
[ -n "$name" ] || die "usage: fault.sh stop|start|cut|restore|loss|clear HOST [PERCENT]"
container=$(container_name "$name")
docker inspect "$container" >/dev/null 2>&1 || die "no test host named $name"
ip=$(host_ip "$name")
# The fault table lives in the host's network namespace but is set from outside it, with this
# machine's nft: the host needs no extra package and its own rules stay untouched.
in_netns() { nsenter -t "$(docker inspect -f '{{.State.Pid}}' "$container")" -n "$@"; }

case "$cmd" in
  stop) docker stop "$container" >/dev/null ;;
  start) docker start "$container" >/dev/null; wait_running "$name" "$ip" ;;
  cut) docker network disconnect "$NET" "$container" ;;
  restore) docker network connect --ip "$ip" "$NET" "$container" ;;
  loss)
    pct=${3:-}
    [[ "$pct" =~ ^[0-9]+$ ]] && [ "$pct" -le 100 ] || die "loss needs a PERCENT of 0-100, got '$pct'"
    drop="numgen random mod 100 < $pct drop"
    [ "$pct" = 100 ] && drop=drop
    in_netns nft -f - <<NFT
table inet rigger_testbed_fault
delete table inet rigger_testbed_fault
table inet rigger_testbed_fault {
  chain in { type filter hook input priority -300; $drop; }
  chain out { type filter hook output priority -300; $drop; }
}
NFT
    ;;
  clear) in_netns nft delete table inet rigger_testbed_fault 2>/dev/null || true ;;
  *) die "unknown fault '$cmd'" ;;
esac
