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
// registry's access log, that each child manifest follows every blob it
// refers to (platforms are pushed as each one commits, so the children
// of other platforms may come in between), the provenance statements and
// their referrers tags come after them, the tagged index follows all of
// it and is the last write, and a layer shared by all
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
	w := parseWrites(registryRequests(t, offset), "/push/app", "v1")
	t.Logf("push order: %v", w.order)
	if w.index < 0 || w.index != len(w.order)-1 {
		t.Fatalf("push order %v: the tagged index must be the last write", w.order)
	}
	raw := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+repo+":v1")
	mustSucceed(t, raw)
	children := rawIndexChildren(t, raw.Stdout)
	if len(children) != 3 {
		t.Fatalf("pushed index lists %d manifests, want 3: %s", len(children), raw.Stdout)
	}
	for _, c := range children {
		at, ok := w.children[c]
		if !ok || at > w.index {
			t.Errorf("child manifest %s not written before the index (at %d, index at %d)", c, at, w.index)
		}
		for _, b := range childBlobs(t, repo, c) {
			if bat, ok := w.blobs[b]; ok && bat > at {
				t.Errorf("blob %s written at %d, after its manifest %s at %d", b, bat, c, at)
			}
		}
	}
	if len(w.reftags) != 4 {
		t.Errorf("%d referrers tags written, want 4 (provenance of 3 images and the index)", len(w.reftags))
	}
	for _, c := range children {
		for _, rt := range w.reftags {
			if rt < w.children[c] {
				t.Errorf("a referrers tag (at %d) was written before its subjects, image %s at %d", rt, c, w.children[c])
			}
		}
	}
	for d, n := range w.blobPuts {
		if n > 1 {
			t.Errorf("blob %s uploaded %d times", d, n)
		}
	}
	// 3 configs + 3 RUN layers + 1 shared COPY layer = 7 distinct blobs
	// uploaded, and 4 provenance statements with the empty config they
	// share = 5; without deduplication the COPY layer would be uploaded
	// three times. The 3 base layers (one per architecture) are the
	// base's own blobs, mounted from its repository on this registry.
	if len(w.blobPuts) != 7+5 {
		t.Errorf("%d distinct blobs uploaded, want 7 of the images and 5 of their provenance: %v", len(w.blobPuts), w.blobPuts)
	}
	if len(w.mounts) != 3 {
		t.Errorf("%d distinct blobs mounted, want the 3 base layers: %v", len(w.mounts), w.mounts)
	}
	for d := range w.mounts {
		if w.blobPuts[d] > 0 {
			t.Errorf("blob %s both mounted and uploaded", d)
		}
	}
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
