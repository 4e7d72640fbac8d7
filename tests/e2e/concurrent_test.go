package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// layoutTags returns the tags index.json of dir lists, sorted, failing
// the test if index.json is missing or not valid JSON.
func layoutTags(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatalf("reading index.json of %s: %v", dir, err)
	}
	var idx specs.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatalf("index.json of %s is torn or invalid: %v: %q", dir, err, b)
	}
	var tags []string
	for _, m := range idx.Manifests {
		tags = append(tags, m.Annotations[specs.AnnotationRefName])
	}
	sort.Strings(tags)
	return tags
}

// TestLayoutConcurrentWriters runs 8 writers into one layout at once,
// each under its own tag: whole copies, one-platform copies (another
// index) and index pushes out of local storage, 3 times: every writer
// succeeds, every tag survives and skopeo reads each.
func TestLayoutConcurrentWriters(t *testing.T) {
	s := newStore(t)
	mustSucceed(t, polyarch(t, s, "index", "create", "localhost/concurrent:1", fixtureIndex()))
	for round := 0; round < 3; round++ {
		dir := filepath.Join(t.TempDir(), "shared")
		var want []string
		var wg sync.WaitGroup
		results := make([]result, 8)
		for i := range results {
			tag := fmt.Sprintf("tag%d", i)
			want = append(want, tag)
			args := []string{"copy", "--quiet"}
			switch i % 4 {
			case 1, 3:
				args = append(args, "--platform", "linux/arm64", fixtureIndex(), "oci:"+dir+":"+tag)
			case 2:
				args = []string{"index", "push", "--quiet", "localhost/concurrent:1", "oci:" + dir + ":" + tag}
			default:
				args = append(args, fixtureIndex(), "oci:"+dir+":"+tag)
			}
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = polyarch(t, s, args...) }()
		}
		wg.Wait()
		for i, r := range results {
			if r.Code != 0 {
				t.Errorf("round %d: writer %d failed with exit %d: %s", round, i, r.Code, r.Stderr)
			}
		}
		if got := layoutTags(t, dir); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("round %d: layout lists tags %v, want all of %v", round, got, want)
		}
		for _, tag := range want {
			// every tag holds linux/arm64: skopeo reads its config too
			mustSucceed(t, runCmd(t, "", "skopeo", "inspect", "--override-arch", "arm64", "oci:"+dir+":"+tag))
		}
	}
}

// TestLayoutBuildAmongCopies builds into a layout other writers are
// copying into: the build's tag is added next to theirs, not swapped in
// for the whole directory.
func TestLayoutBuildAmongCopies(t *testing.T) {
	s := newStore(t)
	dir := filepath.Join(t.TempDir(), "shared")
	mustSucceed(t, polyarch(t, s, "copy", "--quiet", fixtureIndex(), "oci:"+dir+":before"))
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nCOPY Containerfile /\n", nil)
	buildStore := newStore(t)
	var wg sync.WaitGroup
	results := make([]result, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 0 {
				results[i] = polyarch(t, buildStore, "build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64", "-t", "app:built", "-o", "type=oci,dest="+dir, ctxDir)
				return
			}
			results[i] = polyarch(t, s, "copy", "--quiet", fixtureIndex(), fmt.Sprintf("oci:%s:copy%d", dir, i))
		}()
	}
	wg.Wait()
	for _, r := range results {
		mustSucceed(t, r)
	}
	want := "before,built,copy1,copy2,copy3"
	if got := layoutTags(t, dir); strings.Join(got, ",") != want {
		t.Fatalf("layout lists tags %v, want %s", got, want)
	}
	for _, tag := range strings.Split(want, ",") {
		mustSucceed(t, runCmd(t, "", "skopeo", "inspect", "--raw", "oci:"+dir+":"+tag))
	}
}

// TestLayoutWriterKilled SIGKILLs a copy into a layout at random points,
// 12 times: index.json is always valid JSON, every tag it lists is
// readable by skopeo (its blobs are there), and the tags of finished
// copies are never lost; a last copy then succeeds without waiting on a
// stale lock and removes the staging directories the killed ones left.
func TestLayoutWriterKilled(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "killed")
	s := newStore(t)
	mustSucceed(t, polyarch(t, s, "copy", "--quiet", fixtureIndex(), "oci:"+dir+":base"))
	// The kills land within the time one such copy takes here (a copy
	// into a layout that holds its blobs already), so most hit a writer
	// midway whatever the machine's speed.
	probe := polyarch(t, s, "copy", "--quiet", fixtureIndex(), "oci:"+dir+":probe")
	mustSucceed(t, probe)
	span := max(probe.Elapsed, 10*time.Millisecond)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	killed := 0
	for i := 0; i < 12; i++ {
		delay := time.Duration(rng.Int63n(int64(span)))
		cmd := exec.Command(env.Bin, append(s.flags(), "copy", "--quiet", fixtureIndex(), fmt.Sprintf("oci:%s:k%d", dir, i))...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		if cmd.Process.Kill() == nil && cmd.Wait() != nil {
			killed++
		}
		tags := layoutTags(t, dir)
		if !slices.Contains(tags, "base") {
			t.Fatalf("after a kill at %s the base tag is gone: %v", delay, tags)
		}
		for _, tag := range tags {
			if r := runCmd(t, "", "skopeo", "inspect", "--raw", "oci:"+dir+":"+tag); r.Code != 0 {
				t.Fatalf("after a kill at %s, tag %s is listed but unreadable: %s", delay, tag, r.Stderr)
			}
		}
	}
	t.Logf("%d of 12 writers were killed before they finished (kills within %s, one copy's time)", killed, span)
	if killed == 0 {
		t.Errorf("no writer was killed midway: the test proved nothing")
	}
	r := polyarch(t, s, "copy", "--quiet", fixtureIndex(), "oci:"+dir+":last")
	mustSucceed(t, r)
	if r.Elapsed > 30*time.Second {
		t.Errorf("the last copy took %s: a stale lock?", r.Elapsed)
	}
	if tags := layoutTags(t, dir); !slices.Contains(tags, "last") || !slices.Contains(tags, "base") {
		t.Errorf("after the last copy the layout lists %v, want base and last among them", tags)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".killed.polyarch*")); len(left) != 0 {
		t.Errorf("staging directories of killed writers left after the next copy: %v", left)
	}
}
