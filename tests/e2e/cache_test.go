package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Tests of the layer cache: buildah's registry cache shared by runners
// with empty stores (--cache-to, --cache-from), per platform, and
// --layers=false.

// cacheContainerfile has one slow RUN that counts its runs in a host
// directory (bind-mounted with -v) and leaves a random marker and its
// machine in the image.
const cacheContainerfile = `FROM %s
RUN uname -m >> /mnt/runs/count && sleep 2 && head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > /marker && uname -m >> /marker
`

// cacheRun is a host directory counting RUN executions, and a context.
type cacheRun struct {
	runs, ctx string
}

// newCacheRun makes the counting directory and the build context.
func newCacheRun(t *testing.T) cacheRun {
	runs := t.TempDir()
	return cacheRun{runs: runs, ctx: writeContext(t, fmt.Sprintf(cacheContainerfile, registryBase("latest")), nil)}
}

// count returns the machines of every RUN so far, one per run.
func (c cacheRun) count(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.runs, "count"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// build runs a build into a fresh store and an OCI layout, and returns
// the /marker of each platform, in platform order.
func (c cacheRun) build(t *testing.T, platforms string, args ...string) []string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	all := append([]string{"build", "--platform", platforms, "--tls-verify=false", "-v", c.runs + ":/mnt/runs", "-o", "type=oci,dest=" + out}, args...)
	mustSucceed(t, polyarch(t, newStore(t), append(all, c.ctx)...))
	l := layout{t: t, dir: out}
	_, _, idx := l.top()
	var markers []string
	for i := range idx.Manifests {
		m, err := l.file(idx, i, "/marker")
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		markers = append(markers, m)
	}
	return markers
}

// TestRegistryCacheAcrossRunners builds two platforms (arm64 emulated)
// with --cache-to, then again on a fresh store with --cache-from: the
// RUN does not run again and the layers carry the first build's
// markers. --no-cache runs it again despite --cache-from.
func TestRegistryCacheAcrossRunners(t *testing.T) {
	c := newCacheRun(t)
	cache := env.Registry + "/runner-cache"
	first := c.build(t, "linux/amd64,linux/arm64", "--cache-to", cache)
	if got := c.count(t); strings.Join(got, " ") != "x86_64 aarch64" && strings.Join(got, " ") != "aarch64 x86_64" {
		t.Fatalf("first build ran the RUN on %v, want once per platform", got)
	}
	checkMarkers(t, first, "x86_64", "aarch64")
	for _, repo := range []string{cache + "-linux-amd64", cache + "-linux-arm64"} {
		r := skopeo(t, "list-tags", "--tls-verify=false", "docker://"+repo)
		mustSucceed(t, r)
		if !strings.Contains(r.Stdout, `"Tags"`) || strings.Contains(r.Stdout, `"Tags": []`) {
			t.Errorf("cache repository %s holds no tag: %s", repo, r.Stdout)
		}
	}

	second := c.build(t, "linux/amd64,linux/arm64", "--cache-from", cache)
	if got := c.count(t); len(got) != 2 {
		t.Errorf("a fresh store with --cache-from ran the RUN again: runs %v", got)
	}
	for i := range first {
		if second[i] != first[i] {
			t.Errorf("platform %d: marker %q, want the cached %q", i, second[i], first[i])
		}
	}

	forced := c.build(t, "linux/amd64,linux/arm64", "--cache-from", cache, "--no-cache")
	if got := c.count(t); len(got) != 4 {
		t.Errorf("--no-cache with --cache-from: runs %v, want the RUN run again on both platforms", got)
	}
	checkMarkers(t, forced, "x86_64", "aarch64")
	for i := range first {
		if forced[i] == first[i] {
			t.Errorf("platform %d: --no-cache kept the cached marker %q", i, forced[i])
		}
	}
}

// TestRegistryCacheOtherPlatformUnused fills the cache for arm64 only;
// an amd64 build from it runs its RUN natively and carries amd64 content.
func TestRegistryCacheOtherPlatformUnused(t *testing.T) {
	c := newCacheRun(t)
	cache := env.Registry + "/xplat-cache"
	arm := c.build(t, "linux/arm64", "--cache-to", cache)
	amd := c.build(t, "linux/amd64", "--cache-from", cache)
	if got := c.count(t); strings.Join(got, " ") != "aarch64 x86_64" {
		t.Errorf("runs %v, want aarch64 then x86_64: the amd64 build must run its RUN", got)
	}
	checkMarkers(t, arm, "aarch64")
	checkMarkers(t, amd, "x86_64")
}

// TestRegistryCacheVariantsApart builds FROM scratch for arm/v6 into the
// cache, then arm/v7 from it. Buildah's cache key is the same for both
// (same base layers, same instruction) and buildah compares only OS and
// architecture of a cached image, so a shared repository would give v7
// the v6 image; polyarch's per-platform repositories keep them apart.
func TestRegistryCacheVariantsApart(t *testing.T) {
	ctx := writeContext(t, "FROM scratch\nCOPY data /data\n", map[string]string{"data": "same bytes for every platform\n"})
	cache := env.Registry + "/variant-cache"
	v6, v7 := filepath.Join(t.TempDir(), "v6"), filepath.Join(t.TempDir(), "v7")
	mustSucceed(t, polyarch(t, newStore(t), "build", "--platform", "linux/arm/v6", "--tls-verify=false", "--cache-to", cache, "-o", "type=oci,dest="+v6, ctx))
	mustSucceed(t, polyarch(t, newStore(t), "build", "--platform", "linux/arm/v7", "--tls-verify=false", "--cache-from", cache, "--cache-to", cache, "-o", "type=oci,dest="+v7, ctx))
	for dir, want := range map[string]string{v6: "v6", v7: "v7"} {
		l := layout{t: t, dir: dir}
		_, _, idx := l.top()
		var man specs.Manifest
		l.readJSON(idx.Manifests[0].Digest.String(), &man)
		var cfg specs.Image
		l.readJSON(man.Config.Digest.String(), &cfg)
		if cfg.Architecture != "arm" || cfg.Variant != want {
			t.Errorf("%s: config says %s/%s, want arm/%s", dir, cfg.Architecture, cfg.Variant, want)
		}
	}
	for _, repo := range []string{cache + "-linux-arm-v6", cache + "-linux-arm-v7"} {
		mustSucceed(t, skopeo(t, "list-tags", "--tls-verify=false", "docker://"+repo))
	}
}

// checkMarkers checks that marker i ends with machine want[i].
func checkMarkers(t *testing.T, markers []string, want ...string) {
	t.Helper()
	if len(markers) != len(want) {
		t.Fatalf("%d markers, want %d", len(markers), len(want))
	}
	for i, m := range markers {
		if !strings.HasSuffix(strings.TrimSpace(m), want[i]) || len(strings.TrimSpace(m)) < len(want[i])+24 {
			t.Errorf("platform %d: marker %q, want a random prefix and %s", i, m, want[i])
		}
	}
}

// layersContainerfile has several steps and two stages: with layers,
// each leaves an intermediate image.
const layersContainerfile = `FROM %[1]s AS tools
RUN echo tool > /tool
FROM %[1]s
COPY --from=tools /tool /tool
RUN echo one > /one
RUN echo two > /two
ENV DONE=1
`

// TestLayersFalseKeepsNoIntermediates builds the same Containerfile with
// and without --layers: without, the store holds only the bases, the
// platform images and the index.
func TestLayersFalseKeepsNoIntermediates(t *testing.T) {
	ctx := writeContext(t, fmt.Sprintf(layersContainerfile, registryBase("latest")), nil)
	for _, tc := range []struct {
		layers        string
		intermediates bool
	}{{"--layers=true", true}, {"--layers=false", false}} {
		t.Run(tc.layers, func(t *testing.T) {
			s := newStore(t)
			md := filepath.Join(t.TempDir(), "md.json")
			mustSucceed(t, polyarch(t, s, "build", "--platform", "linux/amd64,linux/arm64", tc.layers, "--tls-verify=false", "-t", "layers:1", "--metadata-file", md, ctx))
			extra := strayImages(t, s, md)
			if tc.intermediates && len(extra) == 0 {
				t.Errorf("%s left no intermediate image: the check finds nothing", tc.layers)
			}
			if !tc.intermediates && len(extra) > 0 {
				t.Errorf("%s left intermediate images: %v", tc.layers, extra)
			}
		})
	}
}

// strayImages returns the images of s that are neither named (the
// index), nor a base (platforms pulling one name into one store take the
// name from each other), nor a platform image of the build described by
// the metadata file md.
func strayImages(t *testing.T, s store, md string) []string {
	t.Helper()
	var meta struct {
		Platforms []struct {
			Config string `json:"containerimage.config.digest"`
		} `json:"polyarch.platforms"`
	}
	b, err := os.ReadFile(md)
	if err != nil || json.Unmarshal(b, &meta) != nil || len(meta.Platforms) == 0 {
		t.Fatalf("reading %s: %v: %s", md, err, b)
	}
	result := map[string]bool{}
	for _, p := range meta.Platforms {
		result[strings.TrimPrefix(p.Config, "sha256:")] = true
	}
	for _, id := range baseConfigs(t, env.Registry+"/busybox", "latest") {
		result[id] = true
	}
	r := podman(t, s, "images", "-a", "--no-trunc", "--format", "{{.ID}} {{.Repository}}")
	mustSucceed(t, r)
	var extra []string
	for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		id, repo, _ := strings.Cut(line, " ")
		id = strings.TrimPrefix(id, "sha256:")
		if repo == "<none>" && !result[id] {
			extra = append(extra, id)
		}
	}
	return extra
}

// TestLocalCacheVariantsApart builds linux/arm/v6 and linux/arm/v7 FROM
// scratch in one store, one after the other: buildah's local layer cache
// offers v7 the v6 image (same key, same architecture), which polyarch
// refuses, so the index has one entry per variant, each saying its own.
func TestLocalCacheVariantsApart(t *testing.T) {
	ctx := writeContext(t, "FROM scratch\nCOPY data /data\n", map[string]string{"data": "same bytes for every platform\n"})
	out := filepath.Join(t.TempDir(), "out")
	r := polyarch(t, newStore(t), "build", "--platform", "linux/arm/v6,linux/arm/v7", "--jobs", "1", "-o", "type=oci,dest="+out, ctx)
	mustSucceed(t, r)
	if !strings.Contains(r.Stderr, "building linux/arm/v7 again without the cache") {
		t.Errorf("no warning about the v6 image offered to v7 in stderr")
	}
	l := layout{t: t, dir: out}
	_, _, idx := l.top()
	if got := platformsOf(idx); strings.Join(got, " ") != "linux/arm/v6 linux/arm/v7" {
		t.Fatalf("index platforms %v, want linux/arm/v6 linux/arm/v7", got)
	}
	for i, want := range []string{"v6", "v7"} {
		var man specs.Manifest
		l.readJSON(idx.Manifests[i].Digest.String(), &man)
		var cfg specs.Image
		l.readJSON(man.Config.Digest.String(), &cfg)
		if cfg.Variant != want {
			t.Errorf("entry %d: config variant %q, want %q", i, cfg.Variant, want)
		}
	}
}

// baseConfigs returns the config digests (image IDs in local storage,
// without "sha256:") of every platform image of the registry index
// repo:tag.
func baseConfigs(t *testing.T, repo, tag string) []string {
	t.Helper()
	var list struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	r := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+repo+":"+tag)
	mustSucceed(t, r)
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range list.Manifests {
		var man specs.Manifest
		c := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+repo+"@"+m.Digest)
		mustSucceed(t, c)
		if err := json.Unmarshal([]byte(c.Stdout), &man); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, man.Config.Digest.Encoded())
	}
	return ids
}

// TestCacheToUnreachable checks that a --cache-to registry that does not
// answer fails the build before anything is pulled or built, naming
// every platform's repository.
func TestCacheToUnreachable(t *testing.T) {
	c := newCacheRun(t)
	r := polyarch(t, newStore(t), "build", "--platform", "linux/amd64,linux/arm64", "--tls-verify=false", "-v", c.runs+":/mnt/runs", "--cache-to", "127.0.0.1:1/cache", c.ctx)
	if r.Code != 1 || !strings.Contains(r.Stderr, "cannot push to every --cache-to repository, nothing was built") ||
		!strings.Contains(r.Stderr, "127.0.0.1:1/cache-linux-arm64 (linux/arm64)") {
		t.Errorf("exit %d, stderr %q: want 1 and every unreachable cache repository", r.Code, r.Stderr)
	}
	if got := c.count(t); len(got) != 0 {
		t.Errorf("the RUN ran %v before the cache was found unreachable", got)
	}
}
