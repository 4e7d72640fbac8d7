package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// accessLine matches a request line of the registry's access log.
var accessLine = regexp.MustCompile(`"(PUT|POST|PATCH|HEAD|GET) (/v2/[^ ]+) HTTP`)

// registryRequests returns the "METHOD URI" lines logged since offset.
func registryRequests(t *testing.T, offset int64) []string {
	t.Helper()
	b, err := os.ReadFile(env.RegistryLog)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b[offset:]), "\n") {
		if m := accessLine.FindStringSubmatch(line); m != nil {
			out = append(out, m[1]+" "+m[2])
		}
	}
	return out
}

// logSize returns the current size of the registry log.
func logSize(t *testing.T) int64 {
	t.Helper()
	st, err := os.Stat(env.RegistryLog)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// TestBuildPushOrder pushes a 3-platform build and checks, in the
// registry's access log, that every blob precedes every child manifest,
// the children precede their provenance (each statement's blobs, its
// manifest by digest, then the subject's sha256-<hex> referrers tag) and
// all of it precedes the tagged index, and a layer shared by all
// platforms is uploaded once.
func TestBuildPushOrder(t *testing.T) {
	s := newStore(t)
	cf := "FROM " + registryBase("latest") + "\nCOPY shared.txt /shared.txt\nRUN uname -m > /arch.txt\n"
	ctxDir := writeContext(t, cf, map[string]string{"shared.txt": "the same bytes on every platform\n"})
	repo := env.Registry + "/push/app"
	offset := logSize(t)
	out := filepath.Join(t.TempDir(), "oci")
	r := polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64,linux/s390x",
		"-t", repo+":v1", "--push", "-o", "type=oci,dest="+out, ctxDir)
	mustSucceed(t, r)
	reqs := registryRequests(t, offset)
	var order []string // "blob", "child", "reftag", "index"
	blobPuts := map[string]int{}
	for _, req := range reqs {
		method, uri, _ := strings.Cut(req, " ")
		switch {
		case method == "PUT" && strings.Contains(uri, "/push/app/blobs/uploads/"):
			d := regexp.MustCompile(`digest=(sha256(:|%3A)[0-9a-f]{64})`).FindStringSubmatch(uri)
			if d != nil {
				blobPuts[strings.Replace(d[1], "%3A", ":", 1)]++
			}
			order = append(order, "blob")
		case method == "POST" && strings.Contains(uri, "/push/app/blobs/uploads/") && strings.Contains(uri, "mount="):
			order = append(order, "blob")
		case method == "PUT" && strings.Contains(uri, "/push/app/manifests/sha256-"):
			order = append(order, "reftag")
		case method == "PUT" && strings.Contains(uri, "/push/app/manifests/sha256"):
			order = append(order, "child")
		case method == "PUT" && strings.HasSuffix(uri, "/push/app/manifests/v1"):
			order = append(order, "index")
		}
	}
	t.Logf("push order: %v", order)
	seq := strings.Join(order, " ")
	if !regexp.MustCompile(`^(blob )+(child ){3}((blob )*child reftag ){4}index$`).MatchString(seq) {
		t.Fatalf("push order %q: want blobs, then 3 child manifests, then 4 provenance artifacts (3 children, 1 index) each with its referrers tag, then the index", seq)
	}
	for d, n := range blobPuts {
		if n > 1 {
			t.Errorf("blob %s uploaded %d times", d, n)
		}
	}
	// 3 configs + 3 RUN layers + 3 base layers (one per architecture) +
	// 1 shared COPY layer = 10 distinct blobs, and 4 provenance
	// statements with the empty config they share = 5; without
	// deduplication the COPY layer would be uploaded three times.
	if len(blobPuts) != 10+5 {
		t.Errorf("%d distinct blobs uploaded, want 10 of the images and 5 of their provenance: %v", len(blobPuts), blobPuts)
	}
	raw := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+repo+":v1")
	mustSucceed(t, raw)
	_, desc, _ := layout{t: t, dir: out}.top()
	if got := "sha256:" + sha256hex(raw.Stdout); got != desc.Digest.String() {
		t.Errorf("registry index %s differs from the OCI output's %s: both outputs must hold the same bytes", got, desc.Digest)
	}
	for _, arch := range []string{"amd64", "arm64", "s390x"} {
		if !strings.Contains(raw.Stdout, `"architecture":"`+arch+`"`) {
			t.Errorf("pushed index lacks %s: %s", arch, raw.Stdout)
		}
	}
}

// TestPushNeedsRegistryTag rejects --push with a local-only name before
// any work.
func TestPushNeedsRegistryTag(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM scratch\nCOPY a /a\n", map[string]string{"a": "a"})
	for _, args := range [][]string{
		{"build", "--push", ctxDir},
		{"build", "--push", "-t", "app:1", ctxDir},
	} {
		r := polyarch(t, s, args...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "--push") || !strings.Contains(r.Stderr, "REGISTRY/REPOSITORY:TAG") {
			t.Errorf("%v: exit %d, stderr %q: want a --push error naming REGISTRY/REPOSITORY:TAG", args, r.Code, r.Stderr)
		}
	}
}

// sha256hex returns the hex SHA-256 of s.
func sha256hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
