package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fanoutContainerfile has an emulated RUN step, so that the fan-out and
// the single emulated build are compared on real work.
const fanoutContainerfile = `FROM base
ARG TARGETARCH
COPY f.txt /f.txt
RUN i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo "$TARGETARCH" > /arch.txt
`

// fanoutPlatforms are the platforms the three simulated nodes build.
var fanoutPlatforms = []string{"linux/amd64", "linux/arm64", "linux/s390x"}

// reproFlags make builds of one context byte-identical across stores:
// a fixed epoch and a base read from the fixture layout.
func reproFlags() []string {
	return []string{"--tls-verify=false", "--source-date-epoch", "1700000000", "--rewrite-timestamp",
		"--build-context", "base=oci-layout://" + filepath.Join(env.Fixtures, "busybox-oci") + ":latest"}
}

// fanoutMetadata is the part of a --metadata-file a fan-out reads.
type fanoutMetadata struct {
	buildMetadata
	Report []struct {
		Platform, Status, Step, Error string
	} `json:"polyarch.report"`
}

// readMetadata decodes a --metadata-file.
func readMetadata(t *testing.T, path string) fanoutMetadata {
	t.Helper()
	var md fanoutMetadata
	if err := json.Unmarshal([]byte(readFile(t, path)), &md); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	return md
}

// buildNodes runs one polyarch process per platform, each with its own
// store, concurrently, pushing by digest to repo; it returns their
// metadata files and the wall time of the whole fan-out.
func buildNodes(t *testing.T, ctxDir, repo string) ([]string, time.Duration) {
	t.Helper()
	dir := t.TempDir()
	files := make([]string, len(fanoutPlatforms))
	results := make([]result, len(fanoutPlatforms))
	stores := make([]store, len(fanoutPlatforms))
	for i := range stores {
		stores[i] = newStore(t)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i, p := range fanoutPlatforms {
		files[i] = filepath.Join(dir, strings.ReplaceAll(p, "/", "-")+".json")
		args := append([]string{"build", "--platform", p, "--push-by-digest", repo, "--metadata-file", files[i]}, reproFlags()...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = polyarch(t, stores[i], append(args, ctxDir)...)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i, r := range results {
		if r.Code != 0 {
			t.Fatalf("node %s: exit %d: %s", fanoutPlatforms[i], r.Code, r.Stderr)
		}
	}
	return files, elapsed
}

// TestFanoutMergeMatchesSingleBuild simulates three nodes, each building
// one platform with --push-by-digest, merges their metadata files with
// index create --from-metadata, and compares with one 3-platform
// emulated build --push of the same context: same platforms, same child
// digests. Both wall times are logged.
func TestFanoutMergeMatchesSingleBuild(t *testing.T) {
	ctxDir := writeContext(t, fanoutContainerfile, map[string]string{"f.txt": "fan-out\n"})
	repo := env.Registry + "/fanout"
	files, fanTime := buildNodes(t, ctxDir, repo)
	for i, f := range files {
		md := readMetadata(t, f)
		if len(md.Platforms) != 1 || md.Platforms[0].Platform != fanoutPlatforms[i] || md.Name != repo+"@"+md.Digest || md.Digest != md.Platforms[0].Digest {
			t.Errorf("%s: metadata %+v: want one %s image named %s@DIGEST", f, md, fanoutPlatforms[i], repo)
		}
		if got := skopeoDigest(t, "docker://"+md.Name); got != md.Digest {
			t.Errorf("%s: the registry holds %s under %s", f, got, md.Name)
		}
	}
	mergeStart := time.Now()
	mustSucceed(t, polyarch(t, newStore(t), append([]string{"index", "create", repo + ":1", "--from-metadata", "--tls-verify=false"}, files...)...))
	mergeTime := time.Since(mergeStart)
	merged := decodeIndex(t, skopeoRaw(t, "docker://"+repo+":1"))
	if got := platformsOf(merged); !slices.Equal(got, fanoutPlatforms) {
		t.Fatalf("merged index lists %v, want %v", got, fanoutPlatforms)
	}
	checkEntriesEqualConfigs(t, repo, skopeoRaw(t, "docker://"+repo+":1"))

	single := env.Registry + "/fanout-single:1"
	r := polyarch(t, newStore(t), append(append([]string{"build", "--platform", strings.Join(fanoutPlatforms, ","), "--push", "-t", single}, reproFlags()...), ctxDir)...)
	mustSucceed(t, r)
	want := decodeIndex(t, skopeoRaw(t, "docker://"+single))
	for i := range want.Manifests {
		if merged.Manifests[i].Digest != want.Manifests[i].Digest {
			t.Errorf("%s: merged child %s, single build's %s", fanoutPlatforms[i], merged.Manifests[i].Digest, want.Manifests[i].Digest)
		}
	}
	t.Logf("WALL TIME: fan-out of 3 concurrent single-platform nodes %s + merge %s; single 3-platform emulated build+push %s",
		fanTime.Round(time.Millisecond), mergeTime.Round(time.Millisecond), r.Elapsed.Round(time.Millisecond))
}

// mergeFixture is what the refusal cases merge: an amd64+arm64 build
// pushed by digest, and its children.
type mergeFixture struct {
	repo, metadata string
	amd64, arm64   string
}

// pushTwoPlatforms builds linux/amd64 and linux/arm64 (no RUN step) with
// --push-by-digest into repo: the index and both children, untagged.
func pushTwoPlatforms(t *testing.T, repo string) mergeFixture {
	t.Helper()
	ctxDir := writeContext(t, "FROM base\nLABEL merge=test\n", nil)
	md := filepath.Join(t.TempDir(), "md.json")
	mustSucceed(t, polyarch(t, newStore(t), append(append([]string{"build", "--platform", "linux/amd64,linux/arm64",
		"--push-by-digest", repo, "--metadata-file", md}, reproFlags()...), ctxDir)...))
	m := readMetadata(t, md)
	if len(m.Platforms) != 2 || m.Name != repo+"@"+m.Digest {
		t.Fatalf("metadata %+v: want two platforms and the index named %s@DIGEST", m, repo)
	}
	if got := platformsOf(decodeIndex(t, skopeoRaw(t, "docker://"+m.Name))); !slices.Equal(got, []string{"linux/amd64", "linux/arm64"}) {
		t.Fatalf("the index pushed by digest lists %v", got)
	}
	return mergeFixture{repo: repo, metadata: md, amd64: m.Platforms[0].Digest, arm64: m.Platforms[1].Digest}
}

// writeMetadata writes a metadata file naming children of repo.
func writeMetadata(t *testing.T, repo string, children map[string]string) string {
	t.Helper()
	md := map[string]any{"containerimage.digest": "sha256:" + strings.Repeat("0", 64), "image.name": repo + "@sha256:" + strings.Repeat("0", 64)}
	var ps []map[string]string
	for p, d := range children {
		ps = append(ps, map[string]string{"platform": p, "containerimage.digest": d})
	}
	md["polyarch.platforms"] = ps
	b, err := json.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "md.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMergeRefuses checks that a merge refuses a missing child, two
// children of one platform, a child whose config disagrees with its
// platform, and dropping a platform from the published tag (which
// --allow-shrink permits); a refused merge leaves the tag as it was.
func TestMergeRefuses(t *testing.T) {
	f := pushTwoPlatforms(t, env.Registry+"/merge")
	busyboxAMD64 := entryFor(t, decodeIndex(t, skopeoRaw(t, "docker://"+registryBase("3arch"))), "amd64").Digest.String()
	tag := f.repo + ":1"
	s := newStore(t)
	merge := func(args ...string) result {
		return polyarch(t, s, append([]string{"index", "create", tag, "--from-metadata", "--tls-verify=false"}, args...)...)
	}
	mustSucceed(t, merge(f.metadata))
	published := skopeoDigest(t, "docker://"+tag)
	missing := "sha256:" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing child", []string{writeMetadata(t, f.repo, map[string]string{"linux/amd64": missing})}, "is not in"},
		{"two children of one platform", []string{f.metadata, registryBase("3arch")[:strings.LastIndex(registryBase("3arch"), ":")] + "@" + busyboxAMD64}, "two children for linux/amd64"},
		{"config disagrees with platform", []string{writeMetadata(t, f.repo, map[string]string{"linux/s390x": f.amd64})}, "its config says linux/amd64"},
		{"drops a platform", []string{f.repo + "@" + f.amd64}, "linux/arm64, which the new index lacks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := merge(tc.args...)
			if r.Code == 0 || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("exit %d, stderr %q: want a refusal containing %q", r.Code, r.Stderr, tc.want)
			}
			if got := skopeoDigest(t, "docker://"+tag); got != published {
				t.Errorf("refused merge changed %s from %s to %s", tag, published, got)
			}
		})
	}
	mustSucceed(t, merge("--allow-shrink", f.repo+"@"+f.amd64))
	if got := platformsOf(decodeIndex(t, skopeoRaw(t, "docker://"+tag))); !slices.Equal(got, []string{"linux/amd64"}) {
		t.Errorf("after --allow-shrink the tag lists %v, want linux/amd64 alone", got)
	}
}

// TestMergeFromLayout builds linux/s390x into an OCI layout with a
// metadata file (a runner passing files), then merges it with children
// pushed by digest: the layout's child is copied byte for byte into the
// repository, and naming it by both its metadata file and oci:DIR lists
// it once.
func TestMergeFromLayout(t *testing.T) {
	f := pushTwoPlatforms(t, env.Registry+"/merge-layout")
	ctxDir := writeContext(t, "FROM base\nLABEL merge=test\n", nil)
	out, md := filepath.Join(t.TempDir(), "out"), filepath.Join(t.TempDir(), "s390x.json")
	mustSucceed(t, polyarch(t, newStore(t), append(append([]string{"build", "--platform", "linux/s390x",
		"-o", "type=oci,dest=" + out, "--metadata-file", md}, reproFlags()...), ctxDir)...))
	child := readMetadata(t, md).Digest
	tag := f.repo + ":1"
	mustSucceed(t, polyarch(t, newStore(t), "index", "create", tag, "--from-metadata", "--tls-verify=false", f.metadata, md, "oci:"+out))
	idx := decodeIndex(t, skopeoRaw(t, "docker://"+tag))
	if got := platformsOf(idx); !slices.Equal(got, []string{"linux/amd64", "linux/arm64", "linux/s390x"}) {
		t.Fatalf("merged index lists %v", got)
	}
	if idx.Manifests[2].Digest.String() != child || skopeoRaw(t, "docker://"+f.repo+"@"+child) != skopeoRaw(t, "oci:"+out) {
		t.Errorf("the s390x child in the registry differs from the layout's %s", child)
	}
}

// TestBuildPushRefusesShrink pushes two platforms under a tag, then
// builds one platform for the same tag: refused before building, naming
// the dropped platform; --allow-shrink publishes it.
func TestBuildPushRefusesShrink(t *testing.T) {
	ctxDir := writeContext(t, "FROM base\nLABEL shrink=test\n", nil)
	tag := env.Registry + "/shrink:1"
	s := newStore(t)
	build := func(platforms string, extra ...string) result {
		args := append([]string{"build", "--platform", platforms, "--push", "-t", tag}, reproFlags()...)
		return polyarch(t, s, append(append(args, extra...), ctxDir)...)
	}
	mustSucceed(t, build("linux/amd64,linux/arm64"))
	before := skopeoDigest(t, "docker://"+tag)
	r := build("linux/amd64")
	if r.Code == 0 || !strings.Contains(r.Stderr, "linux/arm64, which the new index lacks") || strings.Contains(r.Stdout, "STEP 1") {
		t.Errorf("exit %d: want a refusal naming linux/arm64 before any step", r.Code)
	}
	if got := skopeoDigest(t, "docker://"+tag); got != before {
		t.Errorf("refused build changed %s", tag)
	}
	mustSucceed(t, build("linux/amd64", "--allow-shrink"))
	if got := skopeoDigest(t, "docker://"+tag); got == before {
		t.Errorf("--allow-shrink left %s as it was", tag)
	}
}

// TestBuildKeepGoing fails the RUN step on linux/s390x only: with
// --keep-going the other two platforms are published under the tag, the
// report (stderr and metadata file) names the failed platform and step,
// and polyarch exits 3.
func TestBuildKeepGoing(t *testing.T) {
	ctxDir := writeContext(t, "FROM base\nARG TARGETARCH\nRUN [ \"$TARGETARCH\" != s390x ]\n", nil)
	tag := env.Registry + "/keepgoing:1"
	md := filepath.Join(t.TempDir(), "md.json")
	r := polyarch(t, newStore(t), append(append([]string{"build", "--platform", strings.Join(fanoutPlatforms, ","), "--push", "-t", tag,
		"--keep-going", "--metadata-file", md}, reproFlags()...), ctxDir)...)
	if r.Code != 3 {
		t.Fatalf("exit %d, want 3 (partial success)", r.Code)
	}
	if !regexpMatch(`linux/s390x\s+failed at RUN`, r.Stderr) || !regexpMatch(`linux/amd64\s+ok`, r.Stderr) {
		t.Errorf("stderr lacks the per-platform report naming linux/s390x failed at its RUN step")
	}
	idx := decodeIndex(t, skopeoRaw(t, "docker://"+tag))
	if got := platformsOf(idx); !slices.Equal(got, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("published index lists %v, want linux/amd64 and linux/arm64", got)
	}
	m := readMetadata(t, md)
	if len(m.Report) != 3 || m.Report[2].Platform != "linux/s390x" || m.Report[2].Status != "failed" || !strings.HasPrefix(m.Report[2].Step, "RUN") ||
		m.Report[0].Status != "ok" || len(m.Platforms) != 2 || m.Digest != skopeoDigest(t, "docker://"+tag) {
		t.Errorf("metadata %+v: want a report with linux/s390x failed at its RUN step, two platforms, the tag's digest", m)
	}
}

// regexpMatch reports whether s matches the pattern.
func regexpMatch(pattern, s string) bool {
	return regexp.MustCompile(pattern).MatchString(s)
}
