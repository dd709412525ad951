#!/bin/bash
# Builds a tiny image locally (busybox, nothing downloaded) and pushes it to the local registry.
#   image.sh NAME:TAG     prints the reference the test hosts pull: 172.30.0.1:5000/NAME:TAG
set -euo pipefail
source "$(dirname "$0")/env.sh"
ref="$REGISTRY/${1:?usage: image.sh NAME:TAG}"
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/www"
cp /bin/busybox "$root/bin/busybox"
echo "served by $1" >"$root/www/index.html"
tar -C "$root" -c . | docker import --change 'CMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]' - "$ref" >/dev/null
docker push "$ref" >/dev/null
echo "$ref"
