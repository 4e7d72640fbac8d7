#!/usr/bin/env bash
# Runs the end-to-end suite a second time as an unprivileged user with
# /etc/subuid and /etc/subgid ranges (the rootless CI runner case), and
# creates a second user without ranges for the single-mapping tests of the
# root run. Must be started as root; the suite itself runs unprivileged.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${TAGS:=containers_image_openpgp exclude_graphdriver_btrfs osusergo netgo}"
user=${POLYARCH_E2E_USER:-polyci}

echo "+ ensure user $user with subordinate ID ranges"
id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
grep -q "^$user:" /etc/subuid || usermod --add-subuids 200000-265535 "$user"
grep -q "^$user:" /etc/subgid || usermod --add-subgids 200000-265535 "$user"

work=$(mktemp -d /tmp/polyarch-rootless.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "+ stage binary, test binary and fixtures in $work"
cp bin/polyarch "$work/polyarch"
cp -a "${POLYARCH_FIXTURES:-tests/.fixtures}" "$work/fixtures"
go test -c -tags "$TAGS" -o "$work/e2e.test" ./tests/e2e
chmod -R a+rX "$work"
chmod 755 "$work"

home=$(getent passwd "$user" | cut -d: -f6)
echo "+ run the suite as $user ($(id "$user"))"
tests/tools/gotest-summary.sh setpriv --reuid="$user" --regid="$user" --init-groups \
	env -i HOME="$home" USER="$user" PATH=/usr/local/bin:/usr/bin:/bin TMPDIR=/tmp \
	POLYARCH_BIN="$work/polyarch" POLYARCH_FIXTURES="$work/fixtures" POLYARCH_E2E_ROOTLESS=1 \
	"$work/e2e.test" -test.v -test.count=1 -test.timeout 30m "$@"
