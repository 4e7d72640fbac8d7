#!/bin/sh
# sigstore-skopeo.sh OUT [VERSION] builds upstream skopeo (default v1.16.1)
# into OUT, unless OUT exists. The signing e2e tests verify polyarch's
# sigstore signatures with it: Debian 12's skopeo 1.9 and podman 4.3 are
# built with sigstore verification disabled ("Debian-local change:
# sigstore disabled"). Built from the Go module proxy, like polyarch's own
# dependencies; the skopeo module itself is not in the checksum database
# this proxy serves, hence GONOSUMDB for it alone.
set -eu
out=$1
version=${2:-v1.16.1}
[ -x "$out" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > go.mod <<MOD
module sigstoreskopeo

go 1.24

require github.com/containers/skopeo $version
MOD
printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/containers/skopeo/cmd/skopeo"\n' > tools.go
export GONOSUMDB=github.com/containers/skopeo GOFLAGS=-mod=mod
go mod tidy -e >/dev/null 2>&1 || true
mkdir -p "$(dirname "$out")"
echo "sigstore-skopeo: building skopeo $version into $out"
go build -tags "containers_image_openpgp exclude_graphdriver_btrfs exclude_graphdriver_devicemapper" -o "$out.tmp" github.com/containers/skopeo/cmd/skopeo
mv "$out.tmp" "$out"
