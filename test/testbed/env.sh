# Shared settings of the test hosts; sourced by the other testbed scripts.
# Debian's docker.io client comes first: another docker client earlier on PATH may not match the daemon.
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

TESTBED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Images, the debootstrap rootfs and the SSH key outlive a clone, so a second run reuses them.
CACHE=${TESTBED_CACHE:-/var/cache/rigger-testbed}
# Per-run state (inventory, known_hosts) lives in the clone, git-ignored.
STATE=${TESTBED_STATE:-$TESTBED_DIR/.state}
NET=rigger-testbed
SUBNET=172.30.0.0/24
GATEWAY=172.30.0.1
REGISTRY="$GATEWAY:5000"
LABEL=rigger.testbed
KEY="$CACHE/id_ed25519"
# The sudo password of the test user `opsuser` (a throwaway host in a private network).
OPSUSER_PASSWORD=opsuser-sudo-pass-4821
SSH_OPTS=(-i "$KEY" -o BatchMode=yes -o ConnectTimeout=2 -o StrictHostKeyChecking=no
  -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)

# The debootstrap base every image starts from, cached by what it includes.
ROOTFS_INCLUDE=openssh-server,systemd,systemd-sysv,dbus,iproute2,ca-certificates,python3,sudo
base_rootfs() { echo "$CACHE/rootfs-$(echo "$ROOTFS_INCLUDE" | sha256sum | cut -c1-8)"; }

# Installs Debian packages into a rootfs (no service starts inside it), leaving no apt lists or resolver behind.
chroot_install() { # rootfs log-name packages...
  local r=$1 logfile="$CACHE/$2.log"; shift 2
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"; chmod +x "$r/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$r/etc/resolv.conf"
  mount --bind /proc "$r/proc"; mount --bind /dev "$r/dev"; mount --bind /sys "$r/sys"
  local ok=0
  chroot "$r" sh -c "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $* && apt-get clean" \
    >"$logfile" 2>&1 || ok=$?
  umount "$r/proc" "$r/dev" "$r/sys"
  [ $ok = 0 ] || die "installing $* into an image failed; see $logfile"
  rm -f "$r/usr/sbin/policy-rc.d"; rm -rf "$r"/var/lib/apt/lists/*; : >"$r/etc/resolv.conf"
}

# Builds a Go module's command into a static binary at OUT, unless it is there already (cached).
go_build() { # module@version out log-name
  [ -x "$2" ] && return
  command -v go >/dev/null || die "Go (1.23 or newer) is needed to build $1"
  log "building $1 from its Go module (cached afterwards)"
  local gobin; gobin=$(mktemp -d)
  CGO_ENABLED=0 GOBIN="$gobin" GOFLAGS=-trimpath go install -ldflags='-s -w' "$1" >"$CACHE/$3.log" 2>&1 ||
    die "building $1 failed; see $CACHE/$3.log"
  mv "$gobin"/* "$2"; rm -rf "$gobin"
}

# The same for a module whose go.mod replaces some dependencies (go install refuses those): built in its own source.
go_build_in_module() { # module version package out log-name
  [ -x "$4" ] && return
  log "building $1@$2 from its Go module source (cached afterwards)"
  local dir
  dir=$(go mod download -json "$1@$2" | jq -r .Dir) || die "downloading $1@$2 failed"
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-trimpath go build -ldflags='-s -w' -o "$4.tmp" "$3") >"$CACHE/$5.log" 2>&1 ||
    die "building $1 failed; see $CACHE/$5.log"
  mv "$4.tmp" "$4"
}

log() { echo "[testbed $(date +%T)] $*" >&2; }
die() { echo "testbed: $*" >&2; exit 1; }

# Waits until the host's sshd lets the test key in (a light host has no systemd to ask).
wait_ssh() { # name ip
  for _ in $(seq 150); do ssh "${SSH_OPTS[@]}" "root@$2" true 2>/dev/null && return; sleep 0.2; done
  die "$1 ($2) did not answer SSH"
}

# Waits until systemd on the host says 'running' over SSH; a degraded boot lists its failed units.
wait_running() { # name ip
  local state=""
  for _ in $(seq 150); do
    state=$(ssh "${SSH_OPTS[@]}" "root@$2" systemctl is-system-running --wait 2>/dev/null) && break
    [ "$state" = degraded ] && break
    sleep 0.2
  done
  if [ "$state" != running ]; then
    ssh "${SSH_OPTS[@]}" "root@$2" systemctl --failed --no-legend 2>/dev/null >&2 || true
    die "$1 ($2) did not reach 'running' (it says '${state:-nothing}')"
  fi
}

# thN (systemd, N <= 50) at .10+N; light hosts lhN (N <= 150) at .100+N.
host_ip() { case $1 in lh*) echo "172.30.0.$((100 + ${1#lh}))" ;; *) echo "172.30.0.$((10 + ${1#th}))" ;; esac; }
container_name() { echo "rigger-$1"; }
# Where Toxiproxy relays a host's SSH port (test/testbed/toxiproxy.sh).
toxiproxy_port() { echo $((22000 + ${1#th})); }

# Images are tagged by a hash of their recipe and the test key: a changed recipe builds anew,
# an unchanged one is reused.
image_tag() { { cat "$TESTBED_DIR/setup.sh" "$KEY.pub"; declare -f chroot_install; echo "$REGISTRY $ROOTFS_INCLUDE"; } | sha256sum | cut -c1-12; }
