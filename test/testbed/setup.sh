#!/bin/bash
# Prepares this machine (Debian 12, root) to run test hosts: host packages, a Docker daemon that
# can run privileged systemd containers, the test network, a local image registry, and the images
# `testhost` (bookworm, systemd, sshd, the test key) and `testhost-docker` (the same plus docker.io).
# Idempotent: every step is skipped when its result is already there.
set -euo pipefail
source "$(dirname "$0")/env.sh"
[ "$(id -u)" = 0 ] || die "setup needs root (it installs packages and starts dockerd)"

# python3: the unit tests run the waits' probe (a Python program on the hosts) on this machine too.
# chromium (Debian's, never a downloaded browser), libnss3-tools (certutil) and dnsmasq-base (its DNS) for the browser calls.
PACKAGES=(debootstrap jq docker.io docker-registry iproute2 nftables curl openssh-client busybox-static python3 chromium libnss3-tools dnsmasq-base)
# Units that grab the dpkg lock or have no business in a container.
MASKED_UNITS=(apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer
  dpkg-db-backup.timer getty@tty1.service console-getty.service systemd-pstore.service)
MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

start_dockerd() {
  install -m755 "$TESTBED_DIR/runc-capfix" "$CACHE/runc-capfix"
  # Ours already runs (told by its command line: a `docker info` that is slow to answer while
  # containers start must never get a working daemon killed, and its hosts with it): wait for it.
  if pgrep -f "dockerd .*--add-runtime capfix=" >/dev/null; then
    for _ in $(seq 150); do docker info >/dev/null 2>&1 && return; sleep 0.2; done
    die "dockerd runs but does not answer; see $CACHE/dockerd.log"
  fi
  log "starting dockerd with the capfix runtime"
  systemctl stop docker.socket docker.service >/dev/null 2>&1 || true
  if pid=$(pgrep -x dockerd); then
    kill $pid; while kill -0 $pid 2>/dev/null; do sleep 0.2; done
  fi
  # iptables stays on (the default): it gives the hosts NAT to the Debian mirror.
  setsid nohup dockerd --add-runtime capfix="$CACHE/runc-capfix" --insecure-registry "$REGISTRY" \
    >"$CACHE/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 100); do docker info >/dev/null 2>&1 && return; sleep 0.2; done
  die "dockerd did not start; see $CACHE/dockerd.log"
}

create_network() {
  docker network inspect "$NET" >/dev/null 2>&1 && return
  local out
  out=$(docker network create --label "$LABEL=1" --subnet "$SUBNET" --gateway "$GATEWAY" "$NET" 2>&1) && return
  # Docker only says "Pool overlaps": name the network that holds an overlapping subnet.
  local taken
  taken=$(docker network ls -q | xargs -r docker network inspect --format '{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{end}}' |
    python3 -c 'import ipaddress, sys
mine = ipaddress.ip_network(sys.argv[1])
for line in sys.stdin:
    name, *subnets = line.split()
    if any(ipaddress.ip_network(s, strict=False).overlaps(mine) for s in subnets if ":" not in s):
        print(name)' "$SUBNET" | paste -sd, -)
  [ -n "$taken" ] && die "the test network $NET needs $SUBNET, which Docker network(s) $taken already use: remove them (docker network rm $taken) or free that range"
  die "creating the test network $NET ($SUBNET) failed: $out"
}

start_registry() {
  curl -sf "http://$REGISTRY/v2/" >/dev/null && return
  log "starting the local registry on $REGISTRY"
  mkdir -p "$CACHE/registry"
  # Our own config: Debian's default one turns on htpasswd auth.
  printf 'version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: %s}, delete: {enabled: true}}\nhttp: {addr: "%s"}\n' \
    "$CACHE/registry/data" "$REGISTRY" >"$CACHE/registry/config.yml"
  setsid nohup docker-registry serve "$CACHE/registry/config.yml" >"$CACHE/registry/log" 2>&1 </dev/null &
  echo $! >"$CACHE/registry/pid"
  for _ in $(seq 50); do curl -sf "http://$REGISTRY/v2/" >/dev/null && return; sleep 0.2; done
  die "the registry did not start; see $CACHE/registry/log"
}

debootstrap_base() {
  local base; base=$(base_rootfs)
  if [ ! -x "$base/usr/sbin/sshd" ]; then
    log "debootstrap bookworm (takes 1-2 minutes, cached afterwards)"
    rm -rf "$base" "$base.tmp"
    debootstrap --variant=minbase --include="$ROOTFS_INCLUDE" bookworm "$base.tmp" "$MIRROR" \
      >"$CACHE/debootstrap.log" 2>&1 || die "debootstrap failed; see $CACHE/debootstrap.log"
    mv "$base.tmp" "$base"
  fi
  echo "$base"
}

customize_rootfs() {
  local r=$1
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s-security bookworm-security main\n' \
    "$MIRROR" "$MIRROR" "$MIRROR" >"$r/etc/apt/sources.list"
  install -d -m700 "$r/root/.ssh"
  install -m600 "$KEY.pub" "$r/root/.ssh/authorized_keys"
  : >"$r/etc/machine-id"
  rm -f "$r/var/lib/dbus/machine-id"; ln -s /etc/machine-id "$r/var/lib/dbus/machine-id"
  for u in "${MASKED_UNITS[@]}"; do ln -sf /dev/null "$r/etc/systemd/system/$u"; done
  # Login users for privilege escalation tests: deploy may sudo without a password, opsuser with one.
  for user in deploy opsuser; do
    chroot "$r" id -u "$user" >/dev/null 2>&1 || chroot "$r" useradd --create-home --shell /bin/bash "$user"
    install -d -m700 -o "$(chroot "$r" id -u "$user")" -g "$(chroot "$r" id -g "$user")" "$r/home/$user/.ssh"
    install -m600 -o "$(chroot "$r" id -u "$user")" -g "$(chroot "$r" id -g "$user")" "$KEY.pub" "$r/home/$user/.ssh/authorized_keys"
  done
  echo "opsuser:$OPSUSER_PASSWORD" | chroot "$r" chpasswd
  printf 'deploy ALL=(ALL) NOPASSWD:ALL\nopsuser ALL=(ALL) ALL\n' >"$r/etc/sudoers.d/testbed"
  chmod 440 "$r/etc/sudoers.d/testbed"
  # Every host gets host keys of its own on first boot, not the ones baked into the image.
  rm -f "$r"/etc/ssh/ssh_host_*
  cat >"$r/etc/systemd/system/testbed-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate this host's SSH host keys
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
[Install]
WantedBy=multi-user.target
UNIT
  ln -sf ../testbed-hostkeys.service "$r/etc/systemd/system/multi-user.target.wants/testbed-hostkeys.service"
  rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*
}

add_docker_engine() {
  local r=$1
  chroot_install "$r" docker-chroot docker.io containerd runc iptables
  mkdir -p "$r/etc/docker"
  printf '{"insecure-registries": ["%s"]}\n' "$REGISTRY" >"$r/etc/docker/daemon.json"
}

import_image() { # rootfs image
  tar -C "$1" -c . | docker import --change 'CMD ["/sbin/init"]' - "$2" >/dev/null
}

build_images() {
  local tag; tag=$(image_tag)
  docker image inspect "testhost:$tag" "testhost-docker:$tag" >/dev/null 2>&1 && return
  local base work="$CACHE/work"
  base=$(debootstrap_base)
  log "building testhost:$tag and testhost-docker:$tag"
  rm -rf "$work"; cp -a "$base" "$work"
  customize_rootfs "$work"
  import_image "$work" "testhost:$tag"
  add_docker_engine "$work"
  import_image "$work" "testhost-docker:$tag"
  rm -rf "$work"
  # Older builds of these images are of no further use.
  docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^testhost(-docker)?:' | grep -v ":$tag\$" |
    xargs -r docker rmi >/dev/null 2>&1 || true
}

mkdir -p "$CACHE"
install_packages
[ -f "$KEY" ] || ssh-keygen -q -t ed25519 -N '' -C rigger-testbed -f "$KEY"
start_dockerd
create_network
start_registry
build_images
log "ready: images testhost:$(image_tag), testhost-docker:$(image_tag); registry $REGISTRY"
