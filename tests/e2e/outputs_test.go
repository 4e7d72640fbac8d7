package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Layer media types and the magic numbers their blobs start with.
const (
	gzipLayer = "application/vnd.oci.image.layer.v1.tar+gzip"
	zstdLayer = "application/vnd.oci.image.layer.v1.tar+zstd"
)

var layerMagic = map[string][]byte{
	gzipLayer: {0x1f, 0x8b},
	zstdLayer: {0x28, 0xb5, 0x2f, 0xfd},
}

// TestOutputsCompressed builds 3 platforms once per compression choice,
// pushed and written as a layout and an archive: every layer of every
// output has the media type asked for (gzip by default) and blobs that
// start with that format's magic number; all outputs hold the same
// index; skopeo reads it and podman pulls it.
func TestOutputsCompressed(t *testing.T) {
	ctxDir := writeContext(t, fmt.Sprintf(archContainerfile, registryBase("latest")), nil)
	for _, tc := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"default gzip", nil, gzipLayer},
		{"zstd", []string{"--compression-format", "zstd", "--compression-level", "3"}, zstdLayer},
		{"zstd:chunked", []string{"--compression-format", "zstd:chunked"}, zstdLayer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			repo := env.Registry + "/outputs/" + strings.NewReplacer(" ", "-", ":", "-").Replace(tc.name)
			dir := t.TempDir()
			layoutDir, archive := filepath.Join(dir, "oci"), filepath.Join(dir, "app.tar")
			args := append([]string{"build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64,linux/s390x", "-t", repo + ":1", "--push",
				"-o", "type=oci,dest=" + layoutDir, "-o", "type=oci-archive,dest=" + archive}, tc.flags...)
			r := polyarch(t, s, append(args, ctxDir)...)
			mustSucceed(t, r)
			raw := skopeoRaw(t, "docker://"+repo+":1")
			checkRegistryLayers(t, repo, raw, tc.want)
			checkReportedDigests(t, r.Stderr, decodeIndex(t, raw))
			unpacked := t.TempDir()
			mustSucceed(t, runCmd(t, "", "tar", "-xf", archive, "-C", unpacked))
			for _, d := range []string{layoutDir, unpacked} {
				l := layout{t: t, dir: d}
				if _, desc, _ := l.top(); desc.Digest.String() != "sha256:"+sha256hex(raw) {
					t.Errorf("%s holds index %s, the registry sha256:%s", d, desc.Digest, sha256hex(raw))
				}
				checkLayoutLayers(t, l, tc.want)
			}
			checkArchLayout(t, layoutDir, []string{"linux/amd64", "linux/arm64", "linux/s390x"})
			mustSucceed(t, podman(t, newStore(t), "pull", "--tls-verify=false", "--arch", "arm64", repo+":1"))
		})
	}
}

// checkReportedDigests asserts that the "[platform] digest" lines a
// build prints name the manifests the index published holds, in order.
func checkReportedDigests(t *testing.T, stderr string, idx specs.Index) {
	t.Helper()
	var got, want []string
	for _, line := range strings.Split(stderr, "\n") {
		if f := strings.Fields(line); len(f) == 2 && strings.HasPrefix(f[0], "[linux/") && strings.HasPrefix(f[1], "sha256:") {
			got = append(got, f[1])
		}
	}
	for _, m := range idx.Manifests {
		want = append(want, m.Digest.String())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("build reported digests %v, the published index lists %v", got, want)
	}
}

// childManifests returns the image manifests of the index raw in the
// registry repository repo (host/path), in index order.
func childManifests(t *testing.T, repo, raw string) []specs.Manifest {
	t.Helper()
	var out []specs.Manifest
	for _, m := range decodeIndex(t, raw).Manifests {
		var man specs.Manifest
		if err := json.Unmarshal([]byte(skopeoRaw(t, "docker://"+repo+"@"+m.Digest.String())), &man); err != nil {
			t.Fatal(err)
		}
		out = append(out, man)
	}
	return out
}

// checkRegistryLayers asserts every layer of the index raw in repo has
// media type want and a blob starting with its magic number.
func checkRegistryLayers(t *testing.T, repo, raw, want string) {
	t.Helper()
	host, path, _ := strings.Cut(repo, "/")
	for _, man := range childManifests(t, repo, raw) {
		for _, l := range man.Layers {
			if l.MediaType != want {
				t.Errorf("%s: layer %s has media type %s, want %s", repo, l.Digest, l.MediaType, want)
			}
			head := httpHead(t, fmt.Sprintf("http://%s/v2/%s/blobs/%s", host, path, l.Digest), len(layerMagic[want]))
			if !bytes.Equal(head, layerMagic[want]) {
				t.Errorf("%s: blob %s starts with %x, want %x (%s)", repo, l.Digest, head, layerMagic[want], want)
			}
		}
	}
}

// httpHead returns the first n bytes of the body at url.
func httpHead(t *testing.T, url string, n int) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(resp.Body, b); err != nil {
		t.Fatalf("reading %s: %v", url, err)
	}
	return b
}

// checkLayoutLayers asserts every layer in the layout has media type want
// and a blob starting with its magic number.
func checkLayoutLayers(t *testing.T, l layout, want string) {
	t.Helper()
	_, _, idx := l.top()
	for _, m := range idx.Manifests {
		var man specs.Manifest
		l.readJSON(m.Digest.String(), &man)
		for _, layer := range man.Layers {
			if layer.MediaType != want {
				t.Errorf("%s: layer %s has media type %s, want %s", l.dir, layer.Digest, layer.MediaType, want)
			}
			b, err := os.ReadFile(l.blobPath(layer.Digest.String()))
			if err != nil || !bytes.HasPrefix(b, layerMagic[want]) {
				t.Errorf("%s: blob %s is not %s (%v)", l.dir, layer.Digest, want, err)
			}
		}
	}
}

// TestCompressionFlagsRejected: bad values are usage errors (exit 125)
// naming the flag and the valid values, before any work.
func TestCompressionFlagsRejected(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\n", nil)
	dest := filepath.Join(t.TempDir(), "out")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"build", "--compression-format", "lz4", ctxDir}, []string{"--compression-format", `"lz4"`, "gzip, zstd or zstd:chunked"}},
		{[]string{"build", "--compression-level", "10", ctxDir}, []string{"--compression-level 10", "gzip", "0 to 9"}},
		{[]string{"build", "--compression-format", "zstd", "--compression-level", "0", ctxDir}, []string{"--compression-level 0", "zstd", "1 to 22"}},
		{[]string{"copy", "--compression-format", "xz", fixtureIndex(), "oci:" + dest}, []string{"--compression-format", `"xz"`, "gzip, zstd or zstd:chunked"}},
		{[]string{"copy", "--compression-level", "5", fixtureIndex(), "oci:" + dest}, []string{"--compression-level needs --compression-format"}},
		{[]string{"index", "push", "--compression-format", "bzip2", "app:1", "oci:" + dest}, []string{"--compression-format", `"bzip2"`, "gzip, zstd or zstd:chunked"}},
		{[]string{"index", "push", "--format", "v2s2", "--compression-format", "zstd", "app:1", "oci:" + dest}, []string{"--compression-format zstd needs OCI manifests"}},
		{[]string{"copy", "--format", "v2s2", "--compression-format", "zstd:chunked", fixtureIndex(), "oci:" + dest}, []string{"--compression-format zstd:chunked needs OCI manifests"}},
	} {
		r := polyarch(t, s, tc.args...)
		if r.Code != 125 {
			t.Errorf("%v: exit %d, want 125", tc.args, r.Code)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.Stderr, w) {
				t.Errorf("%v: stderr %q does not contain %q", tc.args, r.Stderr, w)
			}
		}
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("a refused command created %s: %v", dest, err)
	}
}

// TestIndexPushAndCopyCompression: index push compresses the layers of
// local storage with gzip by default or the format asked for; copy keeps
// blobs as they are unless --compression-format asks for another format.
func TestIndexPushAndCopyCompression(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, fmt.Sprintf(archContainerfile, registryBase("latest")), nil)
	mustSucceed(t, polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/amd64,linux/s390x", "-t", "localhost/ip:1", ctxDir))
	repo := env.Registry + "/ipush/app"
	for _, tc := range []struct {
		args []string
		dest string
		want string
	}{
		{[]string{"index", "push"}, "docker://" + repo + ":gzip", gzipLayer},
		{[]string{"index", "push", "--compression-format", "zstd"}, "docker://" + repo + ":zstd", zstdLayer},
		{[]string{"index", "push", "--compression-format", "zstd"}, "oci:" + filepath.Join(t.TempDir(), "oci") + ":1", zstdLayer},
		{[]string{"copy", "--compression-format", "zstd"}, "docker://" + repo + ":copied-zstd", zstdLayer},
		{[]string{"copy", "--compression-format", "zstd", "--compression-level", "19"}, "oci:" + filepath.Join(t.TempDir(), "copy") + ":1", zstdLayer},
	} {
		src := "ip:1"
		if tc.args[0] == "copy" {
			src = "docker://" + registryBase("3arch")
		}
		mustSucceed(t, polyarch(t, s, append(tc.args, "--tls-verify=false", src, tc.dest)...))
		if repo, ok := strings.CutPrefix(tc.dest, "docker://"); ok {
			checkRegistryLayers(t, repo[:strings.LastIndex(repo, ":")], skopeoRaw(t, tc.dest), tc.want)
		} else {
			checkLayoutLayers(t, layout{t: t, dir: strings.Split(strings.TrimPrefix(tc.dest, "oci:"), ":")[0]}, tc.want)
		}
	}
	// Without --compression-format, copy keeps the zstd blobs as they are.
	kept := "docker://" + repo + ":kept"
	mustSucceed(t, polyarch(t, s, "copy", "--tls-verify=false", "docker://"+repo+":zstd", kept))
	if a, b := skopeoDigest(t, kept), skopeoDigest(t, "docker://"+repo+":zstd"); a != b {
		t.Errorf("copy without --compression-format changed the index: %s, source %s", a, b)
	}
}

// TestCopyPlatformKeepsChild copies one platform of a 3-platform index
// between registries and layouts: the destination index lists only it,
// and its manifest is the source's, byte for byte.
func TestCopyPlatformKeepsChild(t *testing.T) {
	s := newStore(t)
	repo := env.Registry + "/subset/app"
	regSrc := "docker://" + registryBase("3arch")
	for _, tc := range []struct {
		name, src, dest string
	}{
		{"registry to registry", regSrc, "docker://" + repo + ":r2r"},
		{"registry to layout", regSrc, "oci:" + filepath.Join(t.TempDir(), "r2o") + ":v1"},
		{"layout to registry", fixtureIndex(), "docker://" + repo + ":o2r"},
		{"layout to archive", fixtureIndex(), "oci-archive:" + filepath.Join(t.TempDir(), "o2a.tar") + ":v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srcIdx := decodeIndex(t, skopeoRaw(t, tc.src))
			want := entryFor(t, srcIdx, "arm64")
			wantRaw := manifestAt(t, tc.src, want.Digest.String())
			r := polyarch(t, s, "copy", "--tls-verify=false", "--platform", "linux/arm64", tc.src, tc.dest)
			mustSucceed(t, r)
			dstRaw := skopeoRaw(t, tc.dest)
			dstIdx := decodeIndex(t, dstRaw)
			if len(dstIdx.Manifests) != 1 || !reflect.DeepEqual(dstIdx.Manifests[0], want) {
				t.Fatalf("destination index lists %+v, want only the source's entry %+v", dstIdx.Manifests, want)
			}
			if got := manifestAt(t, tc.dest, want.Digest.String()); got != wantRaw {
				t.Errorf("arm64 manifest at the destination differs from the source's:\n%s\nwant\n%s", got, wantRaw)
			}
			if d := strings.TrimSpace(r.Stdout); d != "sha256:"+sha256hex(dstRaw) {
				t.Errorf("copy printed %s, want the new index's digest sha256:%s", d, sha256hex(dstRaw))
			}
		})
	}
}

// entryFor returns the one entry of idx for arch.
func entryFor(t *testing.T, idx specs.Index, arch string) specs.Descriptor {
	t.Helper()
	for _, m := range idx.Manifests {
		if m.Platform != nil && m.Platform.Architecture == arch {
			return m
		}
	}
	t.Fatalf("index has no %s entry: %v", arch, platformsOf(idx))
	return specs.Descriptor{}
}

// manifestAt returns the bytes of manifest d inside ref: from the
// registry with skopeo inspect --raw, from a layout or an archive by
// reading its blob.
func manifestAt(t *testing.T, ref, d string) string {
	t.Helper()
	if repo, ok := strings.CutPrefix(ref, "docker://"); ok {
		return skopeoRaw(t, "docker://"+repo[:strings.LastIndex(repo, ":")]+"@"+d)
	}
	transport, rest, _ := strings.Cut(ref, ":")
	dir := strings.Split(rest, ":")[0]
	if transport == "oci-archive" {
		unpacked := t.TempDir()
		mustSucceed(t, runCmd(t, "", "tar", "-xf", dir, "-C", unpacked))
		dir = unpacked
	}
	return readFile(t, layout{t: t, dir: dir}.blobPath(d))
}

// TestIndexEntriesEqualConfigs: os, architecture, variant, os.version and
// os.features of every index entry equal its config's, for a build of
// four platforms (pushed, and in local storage), an index created from a
// registry index, and an index copied into local storage.
func TestIndexEntriesEqualConfigs(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, fmt.Sprintf(archContainerfile, registryBase("latest")), nil)
	repo := env.Registry + "/entries/app"
	mustSucceed(t, polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64,linux/arm/v7,linux/s390x",
		"-t", repo+":built", "--push", ctxDir))
	mustSucceed(t, polyarch(t, s, "index", "create", "localhost/created:1", "docker://"+registryBase("latest"), "--tls-verify=false"))
	mustSucceed(t, polyarch(t, s, "copy", "--tls-verify=false", "docker://"+registryBase("3arch"), "containers-storage:localhost/copied:1"))
	for local, tag := range map[string]string{"localhost/created:1": "created", "localhost/copied:1": "copied", repo + ":built": "local-build"} {
		mustSucceed(t, polyarch(t, s, "index", "push", "--tls-verify=false", local, "docker://"+repo+":"+tag))
	}
	for _, tag := range []string{"built", "local-build", "created", "copied"} {
		raw := skopeoRaw(t, "docker://"+repo+":"+tag)
		checkEntriesEqualConfigs(t, repo, raw)
	}
}

// checkEntriesEqualConfigs compares each entry of the index raw in repo
// with its config, read back with skopeo.
func checkEntriesEqualConfigs(t *testing.T, repo, raw string) {
	t.Helper()
	idx := decodeIndex(t, raw)
	if len(idx.Manifests) < 3 {
		t.Fatalf("%s: index of %d entries, want several", repo, len(idx.Manifests))
	}
	for _, m := range idx.Manifests {
		r := skopeo(t, "inspect", "--config", "--raw", "--tls-verify=false", "docker://"+repo+"@"+m.Digest.String())
		mustSucceed(t, r)
		var cfg specs.Image
		if err := json.Unmarshal([]byte(r.Stdout), &cfg); err != nil {
			t.Fatal(err)
		}
		want := specs.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion, OSFeatures: cfg.OSFeatures}
		if m.Platform == nil || !reflect.DeepEqual(*m.Platform, want) {
			t.Errorf("%s: entry %s says %+v, its config %+v", repo, m.Digest, m.Platform, want)
		}
	}
}
