package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Tests of the whole-build cache: a rebuild with the inputs of an earlier
// build takes that build's platform images without starting buildah's
// executor. A platform that took its image that way logs
// "timing: phase=build-key platform=P ... hit=true" at debug level; one
// that could not use it logs "build key: none for P: REASON".

// wholeCacheContainerfile copies a context file, runs a step with a
// build argument, and is built FROM the base named by %s.
const wholeCacheContainerfile = `FROM %s
ARG A=1
COPY data /data
RUN echo "$A" > /a
`

// wholeCacheBuild is the result of one build of the whole-cache test.
type wholeCacheBuild struct {
	id   string // the platform images' IDs (config digests), in order
	hits int    // platforms that took the recorded image
	none string // the first "build key: none" reason, if any
	out  layout
}

// wholeCachePlatforms are the platforms the test builds (arm64 emulated).
const wholeCachePlatforms = "linux/amd64,linux/arm64"

var (
	buildKeyHitRE  = regexp.MustCompile(`phase=build-key platform=\S+ elapsed=\S+ hit=true`)
	buildKeyNoneRE = regexp.MustCompile(`build key: none for [^:]+: ([^"]*)`)
)

// buildWholeCache builds ctx into s with args, at debug level, also into
// an OCI layout, and reads what the build did from its log.
func buildWholeCache(t *testing.T, s store, ctx string, args ...string) wholeCacheBuild {
	t.Helper()
	dir := t.TempDir()
	out, md := filepath.Join(dir, "out"), filepath.Join(dir, "md.json")
	all := append([]string{"--log-level", "debug", "build", "-q", "--platform", wholeCachePlatforms, "--tls-verify=false", "-t", "wholecache:1", "-o", "type=oci,dest=" + out, "--metadata-file", md}, args...)
	r := polyarch(t, s, append(all, ctx)...)
	mustSucceed(t, r)
	var meta struct {
		Platforms []struct {
			Config string `json:"containerimage.config.digest"`
		} `json:"polyarch.platforms"`
	}
	raw, err := os.ReadFile(md)
	if err != nil || json.Unmarshal(raw, &meta) != nil || len(meta.Platforms) != 2 {
		t.Fatalf("reading %s: %v: %s", md, err, raw)
	}
	b := wholeCacheBuild{id: meta.Platforms[0].Config + " " + meta.Platforms[1].Config, hits: len(buildKeyHitRE.FindAllString(r.Stderr, -1)), out: layout{t: t, dir: out}}
	if m := buildKeyNoneRE.FindStringSubmatch(r.Stderr); m != nil {
		b.none = m[1]
	}
	return b
}

// file returns path in platform i's image of the build's layout.
func (b wholeCacheBuild) file(t *testing.T, i int, path string) string {
	t.Helper()
	_, _, idx := b.out.top()
	s, err := b.out.file(idx, i, path)
	if err != nil {
		t.Fatalf("reading %s of platform %d: %v", path, i, err)
	}
	return s
}

// TestWholeBuildCache builds a context, then changes one input at a time
// (in order, on one store): an unchanged rebuild takes every platform's
// image from the whole-build cache and gives the same images; a change to
// a context file, a build argument, a label flag or the base image
// misses it, builds again and shows the change, as does the removal of
// the recorded images; a change to an ignored file does not miss;
// --no-cache does not use it. After every change, a
// second identical build hits again with the same ID.
func TestWholeBuildCache(t *testing.T) {
	base := env.Registry + "/wholecache-base:1"
	mustSucceed(t, skopeo(t, "copy", "--all", "--src-tls-verify=false", "--dest-tls-verify=false", "docker://"+registryBase("latest"), "docker://"+base))
	ctx := writeContext(t, strings.ReplaceAll(wholeCacheContainerfile, "%s", base), map[string]string{
		"data": "one\n", ".containerignore": "ignored\n", "ignored": "first\n",
	})
	// otherBase is the base retagged to another image: one more file.
	otherBase := writeContext(t, "FROM "+registryBase("latest")+"\nRUN echo other > /other\n", nil)
	s := newStore(t)
	var args []string
	prev := buildWholeCache(t, s, ctx)
	if prev.hits != 0 {
		t.Fatalf("the first build into an empty store took %d images from the whole-build cache", prev.hits)
	}
	for _, tc := range []struct {
		name   string
		change func(t *testing.T)
		args   []string
		hit    bool
		check  func(t *testing.T, b wholeCacheBuild)
	}{
		{name: "unchanged", hit: true},
		{name: "context file", change: func(t *testing.T) { writeFile(t, filepath.Join(ctx, "data"), "two\n") }, check: func(t *testing.T, b wholeCacheBuild) {
			for i := range 2 {
				if got := b.file(t, i, "/data"); got != "two\n" {
					t.Errorf("platform %d: /data %q, want the new context file", i, got)
				}
			}
		}},
		{name: "ignored file", change: func(t *testing.T) { writeFile(t, filepath.Join(ctx, "ignored"), "second\n") }, hit: true},
		{name: "build arg", args: []string{"--build-arg", "A=2"}, check: func(t *testing.T, b wholeCacheBuild) {
			for i := range 2 {
				if got := b.file(t, i, "/a"); got != "2\n" {
					t.Errorf("platform %d: /a %q, want the new build argument", i, got)
				}
			}
		}},
		{name: "label flag", args: []string{"--label", "wholecache=yes"}, check: func(t *testing.T, b wholeCacheBuild) {
			_, _, idx := b.out.top()
			for i := range 2 {
				if got := b.out.config(idx, i).Config.Labels["wholecache"]; got != "yes" {
					t.Errorf("platform %d: label wholecache=%q, want yes", i, got)
				}
			}
		}},
		{name: "base retagged", change: func(t *testing.T) {
			mustSucceed(t, polyarch(t, newStore(t), "build", "--platform", wholeCachePlatforms, "--tls-verify=false", "-t", base, "--push", "--allow-shrink", otherBase))
		}, check: func(t *testing.T, b wholeCacheBuild) {
			for i := range 2 {
				if got := b.file(t, i, "/other"); got != "other\n" {
					t.Errorf("platform %d: /other %q, want the new base's file", i, got)
				}
			}
		}},
		{name: "image removed", change: func(t *testing.T) {
			mustSucceed(t, podman(t, s, append([]string{"rmi", "--force"}, strings.Fields(prev.id)...)...))
		}, check: func(t *testing.T, b wholeCacheBuild) {
			if got := b.file(t, 1, "/other"); got != "other\n" {
				t.Errorf("rebuilt image: /other %q", got)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.change != nil {
				tc.change(t)
			}
			args = append(args, tc.args...)
			b := buildWholeCache(t, s, ctx, args...)
			if tc.hit {
				if b.hits != 2 || b.id != prev.id {
					t.Fatalf("%d of 2 platforms from the whole-build cache, images %s (before: %s): want both, the same images", b.hits, b.id, prev.id)
				}
				return
			}
			if b.hits != 0 || b.id == prev.id {
				t.Fatalf("%d platforms from the whole-build cache, images %s (before: %s): want none, new images", b.hits, b.id, prev.id)
			}
			if tc.check != nil {
				tc.check(t, b)
			}
			again := buildWholeCache(t, s, ctx, args...)
			if again.hits != 2 || again.id != b.id {
				t.Fatalf("unchanged rebuild after the change: %d of 2 platforms from the whole-build cache, images %s (before: %s)", again.hits, again.id, b.id)
			}
			prev = again
		})
	}
	t.Run("no-cache", func(t *testing.T) {
		b := buildWholeCache(t, s, ctx, append(args, "--no-cache")...)
		if b.hits != 0 || b.none != "--no-cache" {
			t.Fatalf("--no-cache: %d platforms from the whole-build cache, reason %q: want none, --no-cache", b.hits, b.none)
		}
		if got := b.file(t, 1, "/other"); got != "other\n" {
			t.Errorf("--no-cache build: /other %q", got)
		}
	})
	t.Run("prune removes stale keys", func(t *testing.T) {
		keys := filepath.Join(s.Root, "polyarch", "build-keys")
		before, err := os.ReadDir(keys)
		if err != nil || len(before) == 0 {
			t.Fatalf("no recorded build keys in %s after the builds (%v): the prune check would prove nothing", keys, err)
		}
		r := polyarch(t, s, "prune", "--all", "--force")
		mustSucceed(t, r)
		want := fmt.Sprintf("Removed %d build cache key(s) of removed images", len(before))
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("prune --all after %d recorded keys: want %q in:\n%s", len(before), want, r.Stdout)
		}
		if after, err := os.ReadDir(keys); err != nil || len(after) != 0 {
			t.Errorf("build keys left after prune --all removed every image: %d (%v)", len(after), err)
		}
	})
}

// writeFile writes content to path.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
