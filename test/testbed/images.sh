#!/bin/bash
# Builds the images the service roles deploy in tests and pushes them to the local registry:
#   livekit-server   the real LiveKit, built from its Go module (static binary, nothing else inside)
#   redis, coturn, postgres   the real servers from Debian's packages (postgres with an entry point
#                    that sets it up as the official image does: postgres/docker-entrypoint.sh)
#   postgres-exporter, redis-exporter   the real Prometheus exporters, from Debian's packages
#   synapse, lk-jwt, element-call   our stand-ins (test/standins/, bundled with esbuild), since those
#                    three are AGPL and are not built or fetched here
# and, for the shapes suite's operator proxy, Traefik's binary from its Go module ($CACHE/traefik).
# Every image is tagged by a hash of its recipe and reused while that is unchanged. Writes the
# references to $CACHE/service-images.yaml as role variables (what a test inventory sets).
# Needs setup.sh first (dockerd, registry, the debootstrap rootfs) and node_modules (esbuild).
set -euo pipefail
source "$(dirname "$0")/env.sh"
ROOT=$(cd "$TESTBED_DIR/../.." && pwd)
LIVEKIT_VERSION=v1.13.5
# v3.7's go.mod replaces go-http-auth with a version the module proxy does not serve; v3.6's is served.
TRAEFIK_VERSION=v3.6.12
SERVICE_PACKAGES="redis-server coturn postgresql-15 prometheus-postgres-exporter prometheus-redis-exporter"
OUT="$CACHE/service-images.yaml"

livekit_binary() {
  local bin="$CACHE/livekit-server-$LIVEKIT_VERSION"
  go_build "github.com/livekit/livekit-server/cmd/server@$LIVEKIT_VERSION" "$bin" livekit-build >&2
  echo "$bin"
}

# The operator's Traefik of the shapes suite: a host binary, as operators install it.
build_traefik() {
  go_build_in_module github.com/traefik/traefik/v3 "$TRAEFIK_VERSION" ./cmd/traefik "$CACHE/traefik-$TRAEFIK_VERSION" traefik-build
  ln -sfn "traefik-$TRAEFIK_VERSION" "$CACHE/traefik"
}

# Pushes an image unless the registry has that tag already.
push() {
  curl -sf -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/${1%:*}/manifests/${1##*:}" && return
  docker push "$REGISTRY/$1" >/dev/null
}

build_livekit() {
  local ref="livekit-server:$LIVEKIT_VERSION"
  if ! docker image inspect "$REGISTRY/$ref" >/dev/null 2>&1; then
    local bin root; bin=$(livekit_binary); root=$(mktemp -d)
    install -m755 "$bin" "$root/livekit-server"; mkdir -m1777 "$root/tmp"
    tar -C "$root" -c . | docker import --change 'ENTRYPOINT ["/livekit-server"]' - "$REGISTRY/$ref" >/dev/null
    rm -rf "$root"
  fi
  push "$ref"
  echo "livekit_image: $REGISTRY/$ref"
}

# One rootfs (bookworm + redis-server + coturn + postgresql + node + the stand-ins), imported once per service
# with that service's entry point: the layer is the same, so it is stored and pulled once.
build_services() {
  local tag
  tag=$({ cat "$0" "$ROOT"/test/standins/*.ts "$TESTBED_DIR/postgres/docker-entrypoint.sh"; declare -f chroot_install; echo "$SERVICE_PACKAGES $ROOTFS_INCLUDE"; node --version; } | sha256sum | cut -c1-12)
  local tarball="$CACHE/services-$tag.tar"
  if [ ! -f "$tarball" ]; then
    log "building the services rootfs ($SERVICE_PACKAGES, node, stand-ins)"
    local base; base=$(base_rootfs)
    [ -x "$base/usr/sbin/sshd" ] || die "no debootstrap rootfs at $base: run setup.sh first"
    local r="$CACHE/services-work"
    rm -rf "$r"; cp -a "$base" "$r"
    # As in the official image: postgres is uid 999 (who owns the data directory), and no cluster is
    # made at install: the entry point makes one in the container's data directory.
    chroot "$r" useradd --system --uid 999 --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
    mkdir -p "$r/etc/postgresql-common"; echo "create_main_cluster = false" >"$r/etc/postgresql-common/createcluster.conf"
    # shellcheck disable=SC2086 # the package list splits into words
    chroot_install "$r" services-chroot $SERVICE_PACKAGES
    install -m755 "$(command -v node)" "$r/usr/local/bin/node"
    chroot "$r" /usr/local/bin/node --version >/dev/null || die "node does not run inside the services image"
    install -m755 "$TESTBED_DIR/postgres/docker-entrypoint.sh" "$r/usr/local/bin/docker-entrypoint.sh"
    mkdir -p "$r/opt/standins"
    for s in synapse lk-jwt element-call; do
      "$ROOT/node_modules/.bin/esbuild" "$ROOT/test/standins/$s.ts" --bundle --platform=node --format=cjs --external:pg-native \
        --target=node20 --outfile="$r/opt/standins/$s.cjs" --log-level=warning
    done
    tar -C "$r" -c . >"$tarball.tmp" && mv "$tarball.tmp" "$tarball"
    rm -rf "$r"
    find "$CACHE" -maxdepth 1 -name 'services-*.tar' ! -name "services-$tag.tar" -delete
  fi
  local entry
  for entry in \
    "redis:$tag|CMD [\"redis-server\"]|redis_image" \
    "coturn:$tag|ENTRYPOINT [\"turnserver\"]|coturn_image" \
    "postgres:$tag|ENTRYPOINT [\"/usr/local/bin/docker-entrypoint.sh\"]|postgres_image" \
    "postgres-exporter:$tag|ENTRYPOINT [\"/usr/bin/prometheus-postgres-exporter\"]|postgres_exporter_image" \
    "redis-exporter:$tag|ENTRYPOINT [\"/usr/bin/prometheus-redis-exporter\"]|redis_exporter_image" \
    "synapse-standin:$tag|ENTRYPOINT [\"/usr/local/bin/node\", \"/opt/standins/synapse.cjs\"]|synapse_image" \
    "lk-jwt-standin:$tag|ENTRYPOINT [\"/usr/local/bin/node\", \"/opt/standins/lk-jwt.cjs\"]|lk_jwt_image" \
    "element-call-standin:$tag|ENTRYPOINT [\"/usr/local/bin/node\", \"/opt/standins/element-call.cjs\"]|element_call_image"; do
    IFS='|' read -r ref change var <<<"$entry"
    docker image inspect "$REGISTRY/$ref" >/dev/null 2>&1 || docker import --change "$change" "$tarball" "$REGISTRY/$ref" >/dev/null
    push "$ref"
    echo "$var: $REGISTRY/$ref"
  done
}

command -v go >/dev/null || die "Go (1.23 or newer) is needed to build LiveKit from its module"
curl -sf "http://$REGISTRY/v2/" >/dev/null || die "the registry at $REGISTRY is not running: run setup.sh first"
{ echo "# Written by test/testbed/images.sh: the test images, as the roles' image variables."; build_livekit; build_services; } >"$OUT.tmp"
build_traefik
mv "$OUT.tmp" "$OUT"
log "service images pushed; variables in $OUT"
