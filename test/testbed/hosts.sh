#!/bin/bash
# Starts, lists and removes the test hosts.
#   hosts.sh up [N] [--docker]   set up the machine if needed, (re)start N hosts (default 3), write
#                                the inventory to $STATE/inventory/hosts.yaml, give each host a
#                                Toxiproxy proxy for its SSH port (toxiproxy.sh) and start the ACME
#                                server (pebble.sh)
#   hosts.sh up N --light        (re)start N light hosts lh1..lhN (sshd only) beside them; inventory
#                                $STATE/light/hosts.yaml
#   hosts.sh down                remove every host, the network, the registry, Toxiproxy and Pebble
#   hosts.sh status              one line per running host
#   hosts.sh leftovers           what down left behind (nothing, normally)
set -euo pipefail
source "$(dirname "$0")/env.sh"

write_inventory() { # inventory-dir known-hosts-file group names...
  local dir=$1 known=$2 group=$3; shift 3
  mkdir -p "$dir"
  : >"$known.tmp"
  {
    echo "# Written by test/testbed/hosts.sh for the running test hosts."
    echo "all:"
    echo "  vars:"
    echo "    ansible_user: root"
    echo "    ansible_ssh_private_key_file: $KEY"
    echo "    rigger_known_hosts_file: $known"
    echo "    testbed_opsuser_password: $OPSUSER_PASSWORD"
    echo "  children:"
    echo "    $group:"
    echo "      hosts:"
    for name in "$@"; do
      echo "        $name:"
      echo "          ansible_host: $(host_ip "$name")"
      printf '%s %s\n' "$(host_ip "$name")" \
        "$(docker exec "$(container_name "$name")" cat /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f1,2)" \
        >>"$known.tmp"
    done
  } >"$dir/hosts.yaml.tmp"
  mv "$known.tmp" "$known"
  mv "$dir/hosts.yaml.tmp" "$dir/hosts.yaml"
}

# Light hosts for scale: sshd alone as the first process (no systemd, no services, no Docker
# inside), a few MB of memory each, beside the systemd hosts, with an inventory of their own.
up_light() { # n
  local n=$1 tag; tag=$(image_tag)
  [ "$n" -ge 1 ] && [ "$n" -le 150 ] || die "N must be 1-150 for light hosts, got $n"
  bash "$TESTBED_DIR/setup.sh"
  docker ps -aq --filter "label=$LABEL.light=1" | xargs -r docker rm -fv >/dev/null
  local names=()
  for i in $(seq 1 "$n"); do
    local name="lh$i"; names+=("$name")
    docker run -d --name "$(container_name "$name")" --hostname "$name" --label "$LABEL=1" --label "$LABEL.light=1" \
      --network "$NET" --ip "$(host_ip "$name")" --stop-signal SIGKILL \
      "testhost:$tag" sh -c 'mkdir -p /run/sshd && ssh-keygen -A >/dev/null && exec /usr/sbin/sshd -D -e' >/dev/null
  done
  for name in "${names[@]}"; do wait_ssh "$name" "$(host_ip "$name")"; done
  write_inventory "$STATE/light" "$STATE/light/known_hosts" light "${names[@]}"
  log "$n light hosts running; inventory: $STATE/light/hosts.yaml"
}

up() {
  local n=3 image=testhost light=0
  for a in "$@"; do
    case "$a" in
      --docker) image=testhost-docker ;;
      --light) light=1 ;;
      [0-9]*) n=$a ;;
      *) die "unknown argument to up: $a" ;;
    esac
  done
  [ "$light" = 0 ] || { up_light "$n"; return; }
  [ "$n" -ge 1 ] && [ "$n" -le 50 ] || die "N must be 1-50, got $n"
  # Each host's systemd holds several inotify instances: the kernel's default of 128 a user runs out
  # at about 25 hosts, and the later ones never finish booting.
  if [ "$(cat /proc/sys/fs/inotify/max_user_instances)" -lt 1024 ]; then sysctl -qw fs.inotify.max_user_instances=1024; fi
  bash "$TESTBED_DIR/setup.sh"
  down_hosts
  local names=() tag; tag=$(image_tag)
  for i in $(seq 1 "$n"); do
    local name="th$i"; names+=("$name")
    # Privileged through the capfix runtime, a private cgroup namespace, and SIGRTMIN+3 so that
    # `docker stop` is systemd's clean halt (0.5 s) instead of a 10 s timeout.
    docker run -d --name "$(container_name "$name")" --hostname "$name" --label "$LABEL=1" \
      --network "$NET" --ip "$(host_ip "$name")" \
      --runtime capfix --privileged --cgroupns=private --stop-signal SIGRTMIN+3 \
      --tmpfs /run --tmpfs /run/lock -v /var/lib/docker \
      "$image:$tag" /sbin/init >/dev/null
  done
  for name in "${names[@]}"; do wait_running "$name" "$(host_ip "$name")"; done
  write_inventory "$STATE/inventory" "$STATE/known_hosts" testbed "${names[@]}"
  bash "$TESTBED_DIR/toxiproxy.sh" up "${names[@]}"
  bash "$TESTBED_DIR/pebble.sh" up
  log "$n hosts running ($image); inventory: $STATE/inventory/hosts.yaml"
}

down_hosts() {
  docker ps -aq --filter "label=$LABEL=1" | xargs -r docker rm -fv >/dev/null
  rm -rf "$STATE"
}

down() {
  down_hosts
  # Docker frees a network's endpoints a moment after its containers are gone (longer with a hundred).
  for _ in $(seq 30); do
    docker network ls -q --filter "label=$LABEL=1" | xargs -r docker network rm >/dev/null 2>&1 && break
    sleep 0.5
  done
  if [ -f "$CACHE/registry/pid" ]; then
    kill "$(cat "$CACHE/registry/pid")" 2>/dev/null || true
    rm -f "$CACHE/registry/pid"
  fi
  bash "$TESTBED_DIR/toxiproxy.sh" down
  bash "$TESTBED_DIR/pebble.sh" down
  log "down: no test hosts, network or registry left"
}

# Anything of the testbed's still present after down: containers, networks, the registry.
leftovers() {
  docker ps -a --filter "label=$LABEL=1" --format 'container {{.Names}}'
  docker network ls --filter "label=$LABEL=1" --format 'network {{.Name}}'
  if [ -f "$CACHE/registry/pid" ] && kill -0 "$(cat "$CACHE/registry/pid")" 2>/dev/null; then echo "process docker-registry"; fi
  if [ -f "$CACHE/toxiproxy.pid" ] && kill -0 "$(cat "$CACHE/toxiproxy.pid")" 2>/dev/null; then echo "process toxiproxy"; fi
  local pid
  for pid in "$CACHE"/pebble/*.pid; do [ -f "$pid" ] && kill -0 "$(cat "$pid")" 2>/dev/null && echo "process $(basename "$pid" .pid)"; done
  return 0
}

status() {
  docker ps --filter "label=$LABEL=1" --format '{{.Names}} {{.Status}}'
}

cmd=${1:-}; shift || true
case "$cmd" in
  up) up "$@" ;;
  down) down ;;
  status) status ;;
  leftovers) leftovers ;;
  *) die "usage: hosts.sh up [N] [--docker | --light] | down | status | leftovers" ;;
esac
