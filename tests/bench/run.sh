#!/usr/bin/env bash
# Benchmarks polyarch against buildah, podman and skopeo measured in the
# same run on the same inputs: a 3-platform build (linux/amd64, arm64,
# s390x) from the offline busybox base, into local storage and pushed to a
# loopback registry with gzip layers on both sides (like with like, checked),
# and a 3-platform copy registry to registry and registry to OCI layout.
# Prints medians of N runs, their ratio to the reference tool, and peak RSS. Run on demand: `make bench` (root).
# Emulation for the reference tools comes from host handlers: those already
# registered are used as they are, polyarch registers the missing ones for the
# run, and only those are removed afterwards (binfmt_misc is unmounted again
# if it was not mounted).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-5}
BIN=${POLYARCH_BIN:-$PWD/bin/polyarch}
FIX=${POLYARCH_FIXTURES:-$PWD/tests/.fixtures}
PLATFORMS=linux/amd64,linux/arm64,linux/s390x
for tool in buildah podman skopeo docker-registry /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool missing (apt-get install buildah podman skopeo docker-registry time)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/polyarch-bench.XXXXXX)
BINFMT=/proc/sys/fs/binfmt_misc
added=()
was_mounted=1
mountpoint -q "$BINFMT" || was_mounted=0
cleanup() {
	[ -n "${regpid:-}" ] && kill "$regpid" 2>/dev/null || true
	# Only the handlers this run registered, and not with `emulation
	# uninstall`, which would also remove a polyarch binfmt.d file of theirs.
	for handler in "${added[@]+"${added[@]}"}"; do
		if [ -e "$BINFMT/$handler" ]; then
			echo -1 > "$BINFMT/$handler" || echo "bench: could not remove $BINFMT/$handler" >&2
		fi
	done
	if [ "$was_mounted" = 0 ] && mountpoint -q "$BINFMT"; then
		umount "$BINFMT" || echo "bench: could not unmount $BINFMT" >&2
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# A registry on loopback.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REG=127.0.0.1:$port
printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: %s/reg}}\nhttp: {addr: %s}\n' "$work" "$REG" > "$work/reg.yml"
docker-registry serve "$work/reg.yml" >"$work/reg.log" 2>&1 & regpid=$!
for _ in $(seq 50); do curl -fs "http://$REG/v2/" >/dev/null && break; sleep 0.1; done
skopeo copy -q --all --dest-tls-verify=false "oci:$FIX/busybox-oci:3arch" "docker://$REG/busybox:3arch"

# Host handlers so buildah and podman can run foreign RUN steps: each missing
# one is recorded, then installed, so cleanup removes exactly those.
for pair in linux/arm64:qemu-aarch64 linux/s390x:qemu-s390x; do
	platform=${pair%%:*} handler=${pair#*:}
	if [ ! -e "$BINFMT/$handler" ]; then
		added+=("$handler")
		"$BIN" emulation install "$platform" >/dev/null
	fi
done

ctx=$work/ctx; mkdir -p "$ctx"
printf 'FROM %s/busybox:3arch\nRUN i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; uname -m > /arch.txt\n' "$REG" > "$ctx/Containerfile"

# measure NAME CMD...: runs CMD N times with fresh state; records median
# seconds and max RSS (MB).
declare -A SEC RSS
measure() {
	local name=$1; shift
	local times=() rss=0
	for i in $(seq "$N"); do
		rm -rf "$work/s" "$work/out"; mkdir -p "$work/s"
		/usr/bin/time -f '%e %M' -o "$work/t" "$@" >/dev/null 2>"$work/err" || { echo "bench: $name failed:"; cat "$work/err"; exit 1; }
		read -r sec kb < "$work/t"
		times+=("$sec"); [ "$kb" -gt "$rss" ] && rss=$kb
	done
	SEC[$name]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	RSS[$name]=$((rss / 1024))
}
S() { echo --root "$work/s/root" --runroot "$work/s/run" --storage-driver overlay; }

measure polyarch-build "$BIN" $(S) build --tls-verify=false --platform $PLATFORMS -t bench:1 "$ctx"
measure buildah-build buildah $(S) build --isolation chroot --tls-verify=false --jobs 3 --platform $PLATFORMS --manifest bench:1 "$ctx"
measure podman-build podman $(S) build --isolation chroot --tls-verify=false --jobs 3 --platform $PLATFORMS --manifest bench:1 "$ctx"
# Build and push, gzip layers on both sides: polyarch says so explicitly;
# buildah 1.28's `manifest push` has no --compression-format and pushes gzip.
measure polyarch-push "$BIN" $(S) build --tls-verify=false --compression-format gzip --platform $PLATFORMS -t "$REG/bench/push-p:1" --push "$ctx"
measure buildah-push sh -c "buildah $(S) build --isolation chroot --tls-verify=false --jobs 3 --platform $PLATFORMS --manifest bench:1 '$ctx' &&
	buildah $(S) manifest push --all --tls-verify=false bench:1 docker://$REG/bench/push-b:1"
# layer_types REF: the distinct layer media types of every image of an index.
layer_types() {
	skopeo inspect --raw --tls-verify=false "docker://$1" | python3 -c '
import json, subprocess, sys
repo = sys.argv[1].rsplit(":", 1)[0]
types = set()
for m in json.load(sys.stdin)["manifests"]:
    raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://%s@%s" % (repo, m["digest"])], capture_output=True, check=True).stdout
    types.update(l["mediaType"] for l in json.loads(raw)["layers"])
print(" ".join(sorted(types)))' "$1"
}
for ref in "$REG/bench/push-p:1" "$REG/bench/push-b:1"; do
	types=$(layer_types "$ref")
	case "$types" in
	application/vnd.oci.image.layer.v1.tar+gzip | application/vnd.docker.image.rootfs.diff.tar.gzip) ;;
	*) echo "bench: $ref has layers of type $types, not gzip only: the push comparison is not like with like" >&2; exit 1 ;;
	esac
done
"$BIN" --root "$work/keep/root" --runroot "$work/keep/run" build -q --tls-verify=false --compression-format gzip --platform $PLATFORMS -t "$REG/bench/src:1" --push "$ctx" >/dev/null
measure polyarch-copy "$BIN" copy -q --all --src-tls-verify=false --dest-tls-verify=false "docker://$REG/bench/src:1" "docker://$REG/bench/p$RANDOM:1"
measure skopeo-copy skopeo copy -q --all --src-tls-verify=false --dest-tls-verify=false "docker://$REG/bench/src:1" "docker://$REG/bench/s$RANDOM:1"
measure polyarch-copy-oci "$BIN" copy -q --all --src-tls-verify=false "docker://$REG/bench/src:1" "oci:$work/out:1"
measure skopeo-copy-oci skopeo copy -q --all --src-tls-verify=false "docker://$REG/bench/src:1" "oci:$work/out:1"

row() { awk -v a="${SEC[$1]}" -v b="${SEC[$2]}" -v n="$1" -v r="$2" -v m="${RSS[$1]}" -v q="${RSS[$2]}" \
	'BEGIN { printf "%-20s %7.2fs %5d MB   vs %-17s %7.2fs %5d MB   ratio %.2f\n", n, a, m, r, b, q, a / b }'; }
echo "polyarch benchmarks, median of $N runs ($(nproc) cores, $(uname -r))"
row polyarch-build buildah-build
row polyarch-build podman-build
row polyarch-push buildah-push
row polyarch-copy skopeo-copy
row polyarch-copy-oci skopeo-copy-oci
