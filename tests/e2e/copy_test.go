package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// fixtureIndex is the 3-platform fixture index as an oci: reference.
func fixtureIndex() string {
	return "oci:" + filepath.Join(env.Fixtures, "busybox-oci") + ":3arch"
}

// privateRegistry starts a registry for one test, with extra YAML for its
// config, and returns its address and access log.
func privateRegistry(t *testing.T, extra string) (addr, logPath string) {
	t.Helper()
	dir := t.TempDir()
	stop, addr, err := startRegistry(dir, extra)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return addr, filepath.Join(dir, "registry.log")
}

// skopeoRaw returns the top-level manifest of ref, as skopeo reads it;
// references to an http registry get --tls-verify=false.
func skopeoRaw(t *testing.T, ref string) string {
	t.Helper()
	args := []string{"inspect", "--raw"}
	if strings.HasPrefix(ref, "docker://") {
		args = append(args, "--tls-verify=false")
	}
	r := skopeo(t, append(args, ref)...)
	mustSucceed(t, r)
	return r.Stdout
}

// skopeoDigest returns the digest of ref's top-level manifest.
func skopeoDigest(t *testing.T, ref string) string {
	t.Helper()
	return "sha256:" + sha256hex(skopeoRaw(t, ref))
}

// layersOf returns the layer digests of every image of the index raw,
// stored in the registry repository repo (host/path).
func layersOf(t *testing.T, repo, raw string) []string {
	t.Helper()
	var idx specs.Index
	if err := json.Unmarshal([]byte(raw), &idx); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range idx.Manifests {
		var man specs.Manifest
		if err := json.Unmarshal([]byte(skopeoRaw(t, "docker://"+repo+"@"+m.Digest.String())), &man); err != nil {
			t.Fatal(err)
		}
		for _, l := range man.Layers {
			out = append(out, l.Digest.String())
		}
	}
	return out
}

// TestCopyPromotionKeepsDigests pushes the fixture index, promotes it to
// another repository of the same registry (blobs mounted, not uploaded),
// then round-trips it through an OCI layout and an archive: the index
// digest never changes, and two layouts made a round trip apart are equal.
func TestCopyPromotionKeepsDigests(t *testing.T) {
	s := newStore(t)
	reg := env.Registry + "/promo"
	want := skopeoDigest(t, fixtureIndex())
	dev, prod := "docker://"+reg+"/dev/app:v1", "docker://"+reg+"/prod/app:v1"
	mustSucceed(t, polyarch(t, s, "copy", "--all", "--tls-verify=false", fixtureIndex(), dev))
	offset := logSize(t)
	mustSucceed(t, polyarch(t, s, "copy", "--all", "--tls-verify=false", dev, prod))
	for _, ref := range []string{dev, prod} {
		if got := skopeoDigest(t, ref); got != want {
			t.Fatalf("%s has index digest %s, want the source's %s", ref, got, want)
		}
	}
	checkMounted(t, registryRequests(t, offset), layersOf(t, reg+"/dev/app", skopeoRaw(t, dev)))

	dir := t.TempDir()
	layout1, archive := filepath.Join(dir, "one"), filepath.Join(dir, "app.tar")
	for i, hop := range []string{"oci:" + layout1 + ":v1", "oci-archive:" + archive + ":v1"} {
		back := "docker://" + reg + "/rt" + string(rune('a'+i)) + "/app:v1"
		mustSucceed(t, polyarch(t, s, "copy", "--tls-verify=false", prod, hop))
		mustSucceed(t, polyarch(t, s, "copy", "--tls-verify=false", hop, back))
		for _, ref := range []string{hop, back} {
			if got := skopeoDigest(t, ref); got != want {
				t.Errorf("%s has index digest %s, want %s", ref, got, want)
			}
		}
	}
	layout2 := filepath.Join(dir, "two")
	mustSucceed(t, polyarch(t, s, "copy", "--tls-verify=false", "docker://"+reg+"/rta/app:v1", "oci:"+layout2+":v1"))
	if r := runCmd(t, "", "diff", "-r", layout1, layout2); r.Code != 0 {
		t.Errorf("layouts a round trip apart differ: %s", r.Stdout)
	}
}

// checkMounted asserts that no layer was uploaded in reqs and that each
// was mounted from another repository instead.
func checkMounted(t *testing.T, reqs, layers []string) {
	t.Helper()
	mounts := 0
	for _, l := range layers {
		enc := strings.Replace(l, ":", "%3A", 1)
		for _, r := range reqs {
			switch {
			case strings.HasPrefix(r, "PUT ") && strings.Contains(r, "digest="+enc):
				t.Errorf("layer %s was uploaded, not mounted: %s", l, r)
			case strings.HasPrefix(r, "POST ") && strings.Contains(r, "mount="+enc):
				mounts++
			}
		}
	}
	if mounts < len(layers) {
		t.Errorf("%d mounts for %d layers; requests:\n%s", mounts, len(layers), strings.Join(reqs, "\n"))
	}
}

// readFile returns the content of path.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCopyPlatformSubset copies one platform into a rewritten index, and
// refuses a platform the source lacks before writing anything.
func TestCopyPlatformSubset(t *testing.T) {
	s := newStore(t)
	out := filepath.Join(t.TempDir(), "arm")
	r := polyarch(t, s, "copy", "--platform", "linux/arm64", fixtureIndex(), "oci:"+out+":v1")
	mustSucceed(t, r)
	if !strings.Contains(r.Stderr, "rewritten") {
		t.Errorf("stderr does not say the index was rewritten: %q", r.Stderr)
	}
	var idx specs.Index
	if err := json.Unmarshal([]byte(skopeoRaw(t, "oci:"+out+":v1")), &idx); err != nil {
		t.Fatal(err)
	}
	if got := platformsOf(idx); len(got) != 1 || !strings.HasPrefix(got[0], "linux/arm64") {
		t.Errorf("rewritten index has platforms %v, want only linux/arm64", got)
	}
	if d := strings.TrimSpace(r.Stdout); d != skopeoDigest(t, "oci:"+out+":v1") || d == skopeoDigest(t, fixtureIndex()) {
		t.Errorf("printed digest %s: want the new index's, not the source's", d)
	}

	missing := filepath.Join(t.TempDir(), "ppc")
	r = polyarch(t, s, "copy", "--platform", "linux/ppc64le", fixtureIndex(), "oci:"+missing+":v1")
	if r.Code == 0 || !strings.Contains(r.Stderr, "linux/ppc64le") || !strings.Contains(r.Stderr, "linux/amd64, linux/arm64, linux/s390x") {
		t.Errorf("copy of a missing platform: exit %d, stderr %q; want an error listing linux/amd64, linux/arm64, linux/s390x", r.Code, r.Stderr)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a refused copy created its destination: %v", err)
	}
}

// TestCopyLocalStorage copies the index into local storage, where podman
// sees a manifest list, then out of it by its bare name, whole and as a
// one-platform subset.
func TestCopyLocalStorage(t *testing.T) {
	s := newStore(t)
	mustSucceed(t, polyarch(t, s, "copy", fixtureIndex(), "containers-storage:localhost/copied:1"))
	checkPodmanSees(t, s, "localhost/copied:1", []string{"amd64", "arm64", "s390x"})
	r := polyarch(t, s, "index", "inspect", "--format", "json", "copied:1")
	mustSucceed(t, r)
	var in struct{ Manifests []specs.Descriptor }
	if err := json.Unmarshal([]byte(r.Stdout), &in); err != nil || len(in.Manifests) != 3 {
		t.Fatalf("index in local storage: %d entries (%v), want 3", len(in.Manifests), err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want int
	}{{nil, 3}, {[]string{"--platform", "linux/s390x"}, 1}} {
		out := "oci:" + filepath.Join(dir, strconv.Itoa(tc.want)) + ":v1"
		mustSucceed(t, polyarch(t, s, append(append([]string{"copy"}, tc.args...), "copied:1", out)...))
		var idx specs.Index
		if err := json.Unmarshal([]byte(skopeoRaw(t, out)), &idx); err != nil || len(idx.Manifests) != tc.want {
			t.Errorf("copy %v out of local storage: %d entries (%v), want %d", tc.args, len(idx.Manifests), err, tc.want)
		}
	}
}

// TestIndexInspect checks the table, --raw and --format json forms, and
// a single image.
func TestIndexInspect(t *testing.T) {
	s := newStore(t)
	ref := "docker://" + registryBase("3arch")
	raw := skopeoRaw(t, ref)
	var idx specs.Index
	if err := json.Unmarshal([]byte(raw), &idx); err != nil {
		t.Fatal(err)
	}
	table := polyarch(t, s, "index", "inspect", "--tls-verify=false", ref)
	mustSucceed(t, table)
	for i, p := range platformsOf(idx) {
		if !strings.Contains(table.Stdout, p) || !strings.Contains(table.Stdout, idx.Manifests[i].Digest.String()) {
			t.Errorf("table lacks %s or its digest %s", p, idx.Manifests[i].Digest)
		}
	}
	if r := polyarch(t, s, "index", "inspect", "--raw", "--tls-verify=false", ref); r.Stdout != raw {
		t.Errorf("--raw differs from skopeo inspect --raw:\n%q\n%q", r.Stdout, raw)
	}
	js := polyarch(t, s, "index", "inspect", "--format", "json", "--tls-verify=false", ref)
	var doc struct {
		Name, MediaType, Digest string
		Manifests               []specs.Descriptor
	}
	if err := json.Unmarshal([]byte(js.Stdout), &doc); err != nil || doc.Digest != "sha256:"+sha256hex(raw) || len(doc.Manifests) != 3 || doc.Manifests[2].Platform == nil {
		t.Errorf("--format json: %+v (%v); want the digest and 3 entries with platforms", doc, err)
	}
	single := polyarch(t, s, "index", "inspect", "--tls-verify=false", env.Registry+"/busybox@"+idx.Manifests[0].Digest.String())
	if single.Code != 0 || !strings.Contains(single.Stdout, "Platform:  linux/amd64") {
		t.Errorf("inspect of a single image: exit %d, want its config platform: %s", single.Code, single.Stdout)
	}
}

// TestPlainHTTPRegistryHint reads from the http registry without
// --tls-verify=false: the error says to pass it.
func TestPlainHTTPRegistryHint(t *testing.T) {
	s := newStore(t)
	for _, args := range [][]string{
		{"copy", "docker://" + registryBase("3arch"), "oci:" + filepath.Join(t.TempDir(), "x") + ":v1"},
		{"index", "inspect", "docker://" + registryBase("3arch")},
	} {
		r := polyarch(t, s, args...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "--tls-verify=false") {
			t.Errorf("%s: exit %d, stderr %q: want an error mentioning --tls-verify=false", args[0], r.Code, r.Stderr)
		}
	}
}

// TestCopyRetryAndDigestFile copies through a proxy answering its first request 503: with
// retries (the default, or --retry 1) the copy gets through and --digestfile holds the
// digest skopeo reads there; with --retry 0 it fails.
func TestCopyRetryAndDigestFile(t *testing.T) {
	s := newStore(t)
	for _, tc := range []struct {
		name  string
		retry []string
		fail  bool
	}{
		{name: "default"},
		{name: "retry 1", retry: []string{"--retry", "1"}},
		{name: "retry 0", retry: []string{"--retry", "0"}, fail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := &failFirst{next: httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: env.Registry})}
			srv := httptest.NewServer(proxy)
			defer srv.Close()
			repo := "/retry/" + strings.ReplaceAll(tc.name, " ", "-") + ":v1"
			file := filepath.Join(t.TempDir(), "digest")
			args := append([]string{"copy", "--digestfile", file, "--tls-verify=false"}, tc.retry...)
			r := polyarch(t, s, append(args, fixtureIndex(), "docker://"+srv.Listener.Addr().String()+repo)...)
			retried := strings.Contains(r.Stderr, "retrying")
			if !proxy.failed.Load() || (r.Code != 0) != tc.fail || retried == tc.fail {
				t.Fatalf("exit %d, retried %v after a 503: want a failure %v, a retry %v", r.Code, retried, tc.fail, !tc.fail)
			}
			if tc.fail {
				return
			}
			if got, want := readFile(t, file), skopeoDigest(t, "docker://"+env.Registry+repo); got != want {
				t.Errorf("--digestfile holds %q, skopeo reads %q", got, want)
			}
		})
	}
}

// failFirst answers its first request 503, a transient failure, and the others by next.
type failFirst struct {
	failed atomic.Bool
	next   http.Handler
}

func (f *failFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.failed.CompareAndSwap(false, true) {
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	}
	f.next.ServeHTTP(w, r)
}
