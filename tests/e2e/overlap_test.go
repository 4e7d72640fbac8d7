package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writes are the registry writes of one repository, by position in the
// access log: the first upload (or cross-repository mount) of each blob,
// each manifest written by digest, and the tagged index.
type writes struct {
	order    []string       // "blob", "child", "reftag", "index" in log order
	blobs    map[string]int // digest -> position of its first write
	blobPuts map[string]int // digest -> uploads
	mounts   map[string]int // digest -> cross-repository mounts
	children map[string]int // manifest digest -> position
	reftags  []int          // positions of referrers tags (sha256-HEX)
	index    int            // position of the tag write; -1 if none
}

var (
	uploadDigest = regexp.MustCompile(`digest=(sha256(?::|%3A)[0-9a-f]{64})`)
	mountDigest  = regexp.MustCompile(`mount=(sha256(?::|%3A)[0-9a-f]{64})`)
)

// parseWrites reads the writes to repository path repo (e.g. "/push/app")
// and its tag from the access log lines reqs.
func parseWrites(reqs []string, repo, tag string) writes {
	w := writes{blobs: map[string]int{}, blobPuts: map[string]int{}, mounts: map[string]int{}, children: map[string]int{}, index: -1}
	digestOf := func(m []string) string { return strings.Replace(m[1], "%3A", ":", 1) }
	add := func(kind string) int { w.order = append(w.order, kind); return len(w.order) - 1 }
	for _, req := range reqs {
		method, uri, _ := strings.Cut(req, " ")
		switch {
		case method == "PUT" && strings.Contains(uri, repo+"/blobs/uploads/"):
			at := add("blob")
			if m := uploadDigest.FindStringSubmatch(uri); m != nil {
				d := digestOf(m)
				w.blobPuts[d]++
				if _, ok := w.blobs[d]; !ok {
					w.blobs[d] = at
				}
			}
		case method == "POST" && strings.Contains(uri, repo+"/blobs/uploads/") && strings.Contains(uri, "mount="):
			at := add("blob")
			if m := mountDigest.FindStringSubmatch(uri); m != nil {
				w.mounts[digestOf(m)]++
				if _, ok := w.blobs[digestOf(m)]; !ok {
					w.blobs[digestOf(m)] = at
				}
			}
		case method == "PUT" && strings.Contains(uri, repo+"/manifests/sha256-"):
			w.reftags = append(w.reftags, add("reftag"))
		case method == "PUT" && strings.Contains(uri, repo+"/manifests/sha256:"):
			w.children[uri[strings.LastIndex(uri, "/")+1:]] = add("child")
		case method == "PUT" && strings.HasSuffix(uri, repo+"/manifests/"+tag):
			w.index = add("index")
		}
	}
	return w
}

// rawIndexChildren returns the manifest digests the index raw lists.
func rawIndexChildren(t *testing.T, raw string) []string {
	t.Helper()
	var idx struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	if err := json.Unmarshal([]byte(raw), &idx); err != nil {
		t.Fatalf("parsing index: %v: %s", err, raw)
	}
	var out []string
	for _, m := range idx.Manifests {
		out = append(out, m.Digest)
	}
	return out
}

// childBlobs returns the config and layer digests of manifest d in repo.
func childBlobs(t *testing.T, repo, d string) []string {
	t.Helper()
	r := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+repo+"@"+d)
	mustSucceed(t, r)
	var m struct {
		Config struct{ Digest string }   `json:"config"`
		Layers []struct{ Digest string } `json:"layers"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &m); err != nil {
		t.Fatalf("parsing manifest %s: %v", d, err)
	}
	out := []string{m.Config.Digest}
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}

// debugDuration returns the duration that pattern's group 1 captures in
// polyarch's --log-level debug output.
func debugDuration(t *testing.T, stderr, pattern string) time.Duration {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no debug line matching %q in the output", pattern)
	}
	d, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatalf("parsing %q: %v", m[1], err)
	}
	return d
}

// TestBuildOverlapAllOrNothing builds amd64 and s390x with --push and an
// OCI layout output; the s390x RUN fails after 6 s, long after amd64
// committed. Overlap: amd64's blobs and manifest reached the registry
// (by digest, untagged) while s390x was still running. All-or-nothing:
// afterwards the tag does not exist in the registry nor in local
// storage, the layout was not created, and no staging directory is left
// in the store.
func TestBuildOverlapAllOrNothing(t *testing.T) {
	s := newStore(t)
	cf := "FROM " + registryBase("latest") + "\nARG TARGETARCH\n" +
		`RUN if [ "$TARGETARCH" = s390x ]; then sleep 6; echo late failure >&2; exit 3; fi; uname -m > /arch.txt` + "\n"
	ctxDir := writeContext(t, cf, nil)
	repo := env.Registry + "/overlap/app"
	offset := logSize(t)
	out := filepath.Join(t.TempDir(), "oci")
	r := polyarch(t, s, "--log-level", "debug", "build", "--tls-verify=false", "--platform", "linux/amd64,linux/s390x",
		"-t", repo+":v1", "--push", "-o", "type=oci,dest="+out, ctxDir)
	if r.Code == 0 {
		t.Fatal("the build succeeded although the s390x RUN fails")
	}
	if !strings.Contains(r.Stderr, "late failure") {
		t.Fatalf("the build failed, but not from the s390x RUN: %s", r.Stderr)
	}

	// All-or-nothing.
	if tag := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+repo+":v1"); tag.Code == 0 {
		t.Errorf("tag %s:v1 exists after a failed build: %s", repo, tag.Stdout)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("OCI output %s exists after a failed build (err %v)", out, err)
	}
	if p := podman(t, s, "image", "exists", repo+":v1"); p.Code == 0 {
		t.Errorf("local storage holds %s:v1 after a failed build", repo)
	}
	if left, _ := filepath.Glob(filepath.Join(s.Root, "polyarch-stage-*")); len(left) > 0 {
		t.Errorf("staging directories left in the store: %v", left)
	}

	// Overlap: amd64's content, and only its, is in the registry, untagged.
	w := parseWrites(registryRequests(t, offset), "/overlap/app", "v1")
	t.Logf("registry writes: %v", w.order)
	if w.index >= 0 {
		t.Errorf("the tag was written (at %d) although the build failed", w.index)
	}
	if len(w.children) != 1 {
		t.Fatalf("%d manifests written by digest, want 1 (amd64's): %v", len(w.children), w.children)
	}
	for d, at := range w.children {
		blobs := childBlobs(t, repo, d)
		cfg := skopeo(t, "inspect", "--config", "--raw", "--tls-verify=false", "docker://"+repo+"@"+d)
		mustSucceed(t, cfg)
		if !strings.Contains(cfg.Stdout, `"architecture":"amd64"`) {
			t.Errorf("manifest %s pushed early is not amd64's: %s", d, cfg.Stdout)
		}
		for _, b := range blobs {
			if bat, ok := w.blobs[b]; ok && bat > at {
				t.Errorf("blob %s written after its manifest %s", b, d)
			}
		}
	}
	pushed := debugDuration(t, r.Stderr, `timing: phase=early-push platform=linux/amd64 elapsed=\S+ ended=\+([0-9.]+[mµn]?s)`)
	// The s390x RUN alone sleeps 6 s: amd64 must have been pushed well
	// before the build ended in that failure.
	t.Logf("amd64 pushed at +%s, the failed build took %s", pushed, r.Elapsed)
	if pushed > r.Elapsed-3*time.Second {
		t.Errorf("amd64 was pushed at +%s, not well before the s390x failure ended the build (%s): no overlap", pushed, r.Elapsed)
	}
}

// TestInterruptAfterEarlyPush sends SIGTERM to polyarch once amd64's
// content reached the registry (pushed while s390x still runs its RUN):
// polyarch stops, exits 143, and leaves no tag, no layout, no prepared
// output next to it and no staging directory; amd64's manifest stays in
// the registry untagged.
func TestInterruptAfterEarlyPush(t *testing.T) {
	s := newStore(t)
	marker := newMarker()
	cf := "FROM " + registryBase("latest") + "\nARG TARGETARCH\n" +
		`RUN if [ "$TARGETARCH" = s390x ]; then sleep ` + marker + `; fi; uname -m > /arch.txt` + "\n"
	ctxDir := writeContext(t, cf, nil)
	repo := env.Registry + "/overlap/sig"
	offset := logSize(t)
	out := filepath.Join(t.TempDir(), "oci")
	args := append(s.flags(), "build", "--tls-verify=false", "--platform", "linux/amd64,linux/s390x",
		"-t", repo+":v1", "--push", "-o", "type=oci,dest="+out, ctxDir)
	t.Logf("$ %s %s", env.Bin, strings.Join(args, " "))
	cmd := exec.Command(env.Bin, args...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killMarked(marker) })
	var w writes
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if w = parseWrites(registryRequests(t, offset), "/overlap/sig", "v1"); len(w.children) > 0 {
			break
		}
	}
	if len(w.children) == 0 || !s390xSleeps(marker) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("amd64 was not pushed while s390x ran (children %v, s390x running %v): %s", w.children, s390xSleeps(marker), stderr.String())
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	t.Logf("stderr:\n%s", stderr.String())
	if left := marked(marker); len(left) > 0 {
		t.Errorf("RUN processes left after polyarch exited:\n%s", formatProcs(left))
	}
	if code := cmd.ProcessState.ExitCode(); code != 143 {
		t.Errorf("exit %d after SIGTERM, want 143", code)
	}
	if tag := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+repo+":v1"); tag.Code == 0 {
		t.Errorf("tag %s:v1 exists after an interrupted build", repo)
	}
	for _, pattern := range []string{out, filepath.Join(filepath.Dir(out), ".oci.polyarch-*"), filepath.Join(s.Root, "polyarch-stage-*")} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			t.Errorf("left behind after the interrupt: %v", m)
		}
	}
	for d := range w.children {
		mustSucceed(t, skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+repo+"@"+d))
	}
}

// s390xSleeps reports whether the emulated s390x RUN's sleep marker runs.
func s390xSleeps(marker string) bool {
	for _, p := range marked(marker) {
		if filepath.Base(p.args[0]) == "qemu-s390x-static" && p.args[len(p.args)-1] == marker {
			return true
		}
	}
	return false
}
