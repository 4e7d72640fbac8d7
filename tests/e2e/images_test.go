package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// listedImage is a row of polyarch images --format json.
type listedImage struct {
	Names     []string `json:"names"`
	ID        string   `json:"id"`
	Digest    string   `json:"digest"`
	Index     bool     `json:"index"`
	Platforms []string `json:"platforms"`
}

// TestImagesRmiPruneTag checks images, tag, rmi and prune against
// podman's view of the same store, and that a 3-platform build (and a
// rebuild) leaves no <none> image of its own besides the layer cache and
// the platform images its index lists.
func TestImagesRmiPruneTag(t *testing.T) {
	s := newStore(t)
	archive, err := os.ReadFile(filepath.Join(env.Fixtures, "busybox-oci.tar"))
	if err != nil {
		t.Fatal(err)
	}
	cf := "FROM oci-archive:busybox-oci.tar\nRUN uname -m > /arch\nCOPY f /f\n"
	ctxDir := writeContext(t, cf, map[string]string{"busybox-oci.tar": string(archive), "f": "1"})
	platforms := []string{"linux/amd64", "linux/arm64", "linux/s390x"}
	mustSucceed(t, polyarch(t, s, "build", "--platform", strings.Join(platforms, ","), "-t", "app:1", ctxDir))
	first := indexChildren(t, s, "localhost/app:1")
	checkNoStrays(t, s, first)

	// images agrees with podman on every ID and shows the index's platforms.
	all := listImages(t, s, "-a")
	if got, want := idsOf(all), podmanIDs(t, s); !slices.Equal(got, want) {
		t.Errorf("polyarch images -a lists %v, podman images -a %v", got, want)
	}
	app := findNamed(t, listImages(t, s), "localhost/app:1")
	if !app.Index || !slices.Equal(app.Platforms, platforms) {
		t.Errorf("localhost/app:1 listed as index=%v platforms %v, want an index of %v", app.Index, app.Platforms, platforms)
	}
	table := polyarch(t, s, "images")
	mustSucceed(t, table)
	if !strings.Contains(table.Stdout, "localhost/app:1") || !strings.Contains(table.Stdout, strings.Join(platforms, ",")) || !strings.Contains(table.Stdout, app.ID[:12]) {
		t.Errorf("polyarch images lacks the index row:\n%s", table.Stdout)
	}
	intermediate := podmanFilter(t, s, "intermediate=true")
	if len(intermediate) == 0 {
		t.Fatal("podman sees no intermediate image after a --layers build: the hiding check would prove nothing")
	}
	for _, img := range listImages(t, s) {
		if slices.Contains(intermediate, img.ID) || slices.Contains(mapValues(first), img.ID) {
			t.Errorf("polyarch images (without -a) lists %s, an intermediate image or a platform image of an index", img.ID)
		}
	}

	// A rebuild moves the tag: the previous index goes, its platform
	// images stay as the cache of the last step.
	if err := os.WriteFile(filepath.Join(ctxDir, "f"), []byte("2"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, polyarch(t, s, "build", "--platform", strings.Join(platforms, ","), "-t", "app:1", ctxDir))
	second := indexChildren(t, s, "localhost/app:1")
	if r := podman(t, s, "image", "exists", app.ID); r.Code == 0 {
		t.Errorf("the index %s the rebuild replaced is still in the store", app.ID)
	}
	checkNoStrays(t, s, second, mapValues(first)...)

	// tag: podman sees the new names on the index.
	mustSucceed(t, polyarch(t, s, "tag", "app:1", "app:2", "example.org/team/app:3"))
	mustSucceed(t, polyarch(t, s, "tag", second["linux/amd64"], "keep:1"))
	want := podman(t, s, "image", "inspect", "--format", "{{.Id}}", "localhost/app:1")
	for _, n := range []string{"localhost/app:2", "example.org/team/app:3"} {
		if r := podman(t, s, "image", "inspect", "--format", "{{.Id}}", n); r.Code != 0 || r.Stdout != want.Stdout {
			t.Errorf("podman sees %s as %q, want the index %q", n, r.Stdout, want.Stdout)
		}
	}

	// rmi: a name of several only untags; --all removes the index and the
	// platform images no other name holds.
	mustSucceed(t, polyarch(t, s, "rmi", "--all", "app:1", "app:2"))
	mustSucceed(t, podman(t, s, "manifest", "inspect", "example.org/team/app:3"))
	mustSucceed(t, polyarch(t, s, "rmi", "--all", "example.org/team/app:3"))
	if r := podman(t, s, "image", "exists", "example.org/team/app:3"); r.Code == 0 {
		t.Error("rmi --all left the index")
	}
	for p, id := range second {
		exists := podman(t, s, "image", "exists", id).Code == 0
		if held := p == "linux/amd64"; exists != held {
			t.Errorf("after rmi --all, %s image %s exists=%v, want %v (held by keep:1: %v)", p, id, exists, held, held)
		}
	}

	// prune: refused without a terminal or --force; then removes a
	// killed build's container and the dangling images, and the store
	// passes Check.
	leaveBuildContainer(t, s)
	r := polyarch(t, s, "prune")
	if r.Code != 125 || !strings.Contains(r.Stderr, "--force") {
		t.Errorf("prune without a terminal or --force: exit %d, %s", r.Code, r.Stderr)
	}
	if len(storeContainers(t, s)) == 0 {
		t.Fatal("the refused prune removed the build container")
	}
	// On a terminal it asks; "n" keeps everything, "y" prunes (rootless,
	// in the polyarch re-executed in its user namespace).
	if out := pruneOnTerminal(t, s, "n"); len(storeContainers(t, s)) == 0 {
		t.Fatalf("prune answered n removed the build container: %s", out)
	}
	dangling := podmanFilter(t, s, "dangling=true")
	if len(dangling) == 0 {
		t.Fatal("no dangling image before prune: the check would prove nothing")
	}
	if out := pruneOnTerminal(t, s, "y"); !strings.Contains(out, "Deleted build container") {
		t.Errorf("prune answered y: %s", out)
	}
	if c := storeContainers(t, s); len(c) != 0 {
		t.Errorf("prune left build containers %v", c)
	}
	if d := podmanFilter(t, s, "dangling=true"); len(d) != 0 {
		t.Errorf("prune left dangling images %v (before: %v)", d, dangling)
	}
	mustSucceed(t, podman(t, s, "image", "exists", "localhost/keep:1"))
	mustSucceed(t, polyarch(t, s, "check-store"))
}

// TestBuildContextLeavesNoImage checks that the images a build reads from
// an oci-layout:// context for COPY --from alone (no step builds on
// them) are not left in the store as <none> images.
func TestBuildContextLeavesNoImage(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM scratch\nCOPY --from=lay /bin/busybox /bb\n", nil)
	layout := "lay=oci-layout://" + filepath.Join(env.Fixtures, "busybox-oci") + ":latest"
	mustSucceed(t, polyarch(t, s, "build", "--platform", "linux/amd64,linux/arm64", "--build-context", layout, "-t", "app:1", ctxDir))
	children := indexChildren(t, s, "localhost/app:1")
	if len(children) != 2 {
		t.Fatalf("index lists %v, want 2 platforms", children)
	}
	checkNoStrays(t, s, children)
	all := podmanIDs(t, s)
	if want := 3; len(all) != want { // the index and its two images
		t.Errorf("the store holds %d images, want %d: %v", len(all), want, all)
	}
}

// pruneOnTerminal runs polyarch prune on a terminal (script(1)) and
// answers its question; it returns what the terminal showed.
func pruneOnTerminal(t *testing.T, s store, answer string) string {
	t.Helper()
	line := strings.Join(append([]string{env.Bin}, append(s.flags(), "prune")...), " ")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ask := exec.CommandContext(ctx, "script", "-qec", line, "/dev/null")
	ask.Stdin = strings.NewReader(answer + "\n")
	out, err := ask.CombinedOutput()
	t.Logf("$ script -qec %q /dev/null <<< %s\n%s", line, answer, out)
	if err != nil || !strings.Contains(string(out), "Are you sure you want to continue? [y/N]") {
		t.Errorf("prune on a terminal did not ask, or failed: %v: %s", err, out)
	}
	return string(out)
}

// checkNoStrays fails unless every untagged image podman sees is an
// intermediate image (the layer cache), a platform image of the index
// (children: platform → image ID) or one of cache.
func checkNoStrays(t *testing.T, s store, children map[string]string, cache ...string) {
	t.Helper()
	intermediate := podmanFilter(t, s, "intermediate=true")
	for _, id := range podmanFilter(t, s, "dangling=true") {
		if !slices.Contains(mapValues(children), id) && !slices.Contains(intermediate, id) && !slices.Contains(cache, id) {
			t.Errorf("the build left %s untagged: not the layer cache, not in the index", id)
		}
	}
}

// indexChildren maps each platform of the stored index name to the ID of
// its image, as podman resolves them.
func indexChildren(t *testing.T, s store, name string) map[string]string {
	t.Helper()
	r := podman(t, s, "manifest", "inspect", name)
	mustSucceed(t, r)
	var idx struct {
		Manifests []struct {
			Digest   string `json:"digest"`
			Platform struct {
				OS           string `json:"os"`
				Architecture string `json:"architecture"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &idx); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range idx.Manifests {
		id := podman(t, s, "image", "inspect", "--format", "{{.Id}}", "localhost/app@"+m.Digest)
		mustSucceed(t, id)
		out[m.Platform.OS+"/"+m.Platform.Architecture] = strings.TrimSpace(id.Stdout)
	}
	return out
}

// listImages runs polyarch images --format json with args.
func listImages(t *testing.T, s store, args ...string) []listedImage {
	t.Helper()
	r := polyarch(t, s, append([]string{"images", "--format", "json"}, args...)...)
	mustSucceed(t, r)
	var out []listedImage
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("polyarch images --format json: %v", err)
	}
	return out
}

// findNamed returns the row holding name.
func findNamed(t *testing.T, imgs []listedImage, name string) listedImage {
	t.Helper()
	for _, img := range imgs {
		if slices.Contains(img.Names, name) {
			return img
		}
	}
	t.Fatalf("polyarch images does not list %s", name)
	return listedImage{}
}

// idsOf returns the sorted IDs of imgs.
func idsOf(imgs []listedImage) []string {
	var ids []string
	for _, img := range imgs {
		ids = append(ids, img.ID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// podmanIDs returns the sorted IDs of podman images -a.
func podmanIDs(t *testing.T, s store) []string {
	t.Helper()
	return podmanImages(t, s, "images", "-a", "--format", "{{.Id}}", "--no-trunc")
}

// podmanFilter returns the sorted IDs podman images -a --filter f lists.
func podmanFilter(t *testing.T, s store, f string) []string {
	t.Helper()
	return podmanImages(t, s, "images", "-a", "--filter", f, "--format", "{{.Id}}", "--no-trunc")
}

// podmanImages runs podman with args and returns its sorted, distinct
// output lines (sha256: prefixes dropped).
func podmanImages(t *testing.T, s store, args ...string) []string {
	t.Helper()
	r := podman(t, s, args...)
	mustSucceed(t, r)
	var ids []string
	for _, l := range strings.Fields(r.Stdout) {
		ids = append(ids, strings.TrimPrefix(l, "sha256:"))
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// storeContainers lists the store's containers from containers/storage's
// own records (containers.json, and volatile-containers.json where
// buildah's build containers live): podman 4.3's ps --external does not
// list volatile containers.
func storeContainers(t *testing.T, s store) []string {
	t.Helper()
	var ids []string
	for _, f := range []string{"containers.json", "volatile-containers.json"} {
		b, err := os.ReadFile(filepath.Join(s.Root, "overlay-containers", f))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var cs []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Fatalf("reading %s of the store: %v", f, err)
		}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// leaveBuildContainer kills a build with SIGKILL during a RUN step, so
// that its working container stays in the store. Every polyarch process
// gets SIGKILL: polyarch re-executed in its own user namespace would
// otherwise remove the container when its parent dies.
func leaveBuildContainer(t *testing.T, s store) {
	t.Helper()
	ctxDir := writeContext(t, "FROM localhost/keep:1\nRUN sleep 60\n", nil)
	cmd := exec.Command(env.Bin, append(s.flags(), "build", "--pull=never", ctxDir)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(storeContainers(t, s)) == 0 && time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
	}
	if len(storeContainers(t, s)) > 0 { // a running build keeps prune away
		r := polyarch(t, s, "prune", "--force")
		if r.Code == 0 || !strings.Contains(r.Stderr, "a polyarch build is running on this store") {
			t.Errorf("prune during a build: exit %d, %s", r.Code, r.Stderr)
		}
	}
	killTree(cmd.Process.Pid) // the building child first: it would clean up after its parent
	_ = cmd.Wait()
	if len(storeContainers(t, s)) == 0 {
		t.Fatal("no build container left by a SIGKILLed build: the prune check would prove nothing")
	}
}

// mapValues returns m's values.
func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// killTree sends SIGKILL to pid's descendants, deepest first, then to pid.
func killTree(pid int) {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	for _, c := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(c); err == nil {
			killTree(n)
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}
