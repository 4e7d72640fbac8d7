package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// verifyReport is the part of `polyarch verify --format json` the tests read.
type verifyReport struct {
	OK     bool
	Digest string
	Images []struct {
		Platform, Config string
		Files, ELFFiles  int
		Mismatches       []struct{ Path, Machine, Reason string }
	}
	Entries []struct{ Kind, Platform string }
}

// verifyJSON runs polyarch verify --format json and decodes its report;
// it fails the test unless the exit code is 0 for an OK report, 1 otherwise.
func verifyJSON(t *testing.T, s store, args ...string) verifyReport {
	t.Helper()
	r := polyarch(t, s, append([]string{"verify", "--format", "json"}, args...)...)
	var rep verifyReport
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("decoding the JSON report: %v: %q", err, r.Stdout)
	}
	if want := map[bool]int{true: 0, false: 1}[rep.OK]; r.Code != want {
		t.Errorf("exit %d with ok=%v, want %d", r.Code, rep.OK, want)
	}
	return rep
}

// fixtureLayout returns the fixture OCI layout and the index tagged ref in it.
func fixtureLayout(t *testing.T, ref string) (layout, specs.Index) {
	t.Helper()
	l := layout{t: t, dir: filepath.Join(env.Fixtures, "busybox-oci")}
	var top specs.Index
	b, err := os.ReadFile(filepath.Join(l.dir, "index.json"))
	if err != nil || json.Unmarshal(b, &top) != nil {
		t.Fatalf("reading the fixture index.json: %v", err)
	}
	for _, d := range top.Manifests {
		if d.Annotations[specs.AnnotationRefName] == ref {
			var idx specs.Index
			l.readJSON(d.Digest.String(), &idx)
			return l, idx
		}
	}
	t.Fatalf("no ref %q in the fixture layout", ref)
	return l, specs.Index{}
}

// entryOf returns the position of the entry of architecture arch.
func entryOf(t *testing.T, idx specs.Index, arch string) int {
	t.Helper()
	for i, d := range idx.Manifests {
		if d.Platform != nil && d.Platform.Architecture == arch {
			return i
		}
	}
	t.Fatalf("fixture index has no %s entry", arch)
	return 0
}

// mislabelledLayout writes an OCI layout holding the fixture's arm64
// busybox layer under a config saying linux/amd64 (tag "mislabelled") and
// its mirror, the amd64 layer under linux/arm64/v8 (tag "mirror"), each
// an index whose entry repeats its config's platform, as builders write.
func mislabelledLayout(t *testing.T) string {
	t.Helper()
	src, idx := fixtureLayout(t, "latest")
	dir := filepath.Join(t.TempDir(), "mislabelled")
	copyPath(t, src.dir, dir)
	l := layout{t: t, dir: dir}
	var top specs.Index
	for _, c := range []struct{ tag, layerArch, label, variant string }{
		{"mislabelled", "arm64", "amd64", ""}, {"mirror", "amd64", "arm64", "v8"},
	} {
		var man specs.Manifest
		l.readJSON(idx.Manifests[entryOf(t, idx, c.layerArch)].Digest.String(), &man)
		var cfg specs.Image
		l.readJSON(man.Config.Digest.String(), &cfg)
		cfg.Architecture, cfg.Variant = c.label, c.variant
		man.Config = writeBlob(t, dir, specs.MediaTypeImageConfig, cfg)
		entry := writeBlob(t, dir, specs.MediaTypeImageManifest, man)
		entry.Platform = &specs.Platform{OS: "linux", Architecture: c.label, Variant: c.variant}
		d := writeBlob(t, dir, specs.MediaTypeImageIndex, specs.Index{Versioned: idx.Versioned, MediaType: specs.MediaTypeImageIndex, Manifests: []specs.Descriptor{entry}})
		d.Annotations = map[string]string{specs.AnnotationRefName: c.tag}
		top.Manifests = append(top.Manifests, d)
	}
	top.SchemaVersion = 2
	b, _ := json.Marshal(top)
	if err := os.WriteFile(filepath.Join(dir, "index.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeBlob stores v as a JSON blob of the layout dir.
func writeBlob(t *testing.T, dir, mediaType string, v any) specs.Descriptor {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	d := digest.FromBytes(b)
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return specs.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}
}

// TestVerifyMislabelled verifies an arm64 busybox labelled amd64 and its
// mirror, from the layout and from the registry: both fail, naming the
// file's machine, the label's and the path, in the table and in JSON.
func TestVerifyMislabelled(t *testing.T) {
	s := newStore(t)
	dir := mislabelledLayout(t)
	tests := []struct{ tag, label, file, want string }{
		{"mislabelled", "linux/amd64", "EM_AARCH64 64-bit LSB (linux/arm64)", "EM_X86_64 64-bit LSB (linux/amd64)"},
		{"mirror", "linux/arm64/v8", "EM_X86_64 64-bit LSB (linux/amd64)", "EM_AARCH64 64-bit LSB (linux/arm64)"},
	}
	for _, tc := range tests {
		t.Run(tc.tag, func(t *testing.T) {
			reg := "docker://" + env.Registry + "/verify-" + tc.tag + ":1"
			mustSucceed(t, skopeo(t, "copy", "--all", "--dest-tls-verify=false", "oci:"+dir+":"+tc.tag, reg))
			for _, ref := range []string{"oci:" + dir + ":" + tc.tag, reg} {
				r := polyarch(t, s, "verify", "--tls-verify=false", ref)
				line := "/bin/busybox (layer 1): " + tc.file + " is not " + tc.want
				if r.Code != 1 || !strings.Contains(r.Stdout, line) || !strings.Contains(r.Stdout, "FAILED") {
					t.Errorf("verify %s: exit %d, want 1 and a line %q", ref, r.Code, line)
				}
				rep := verifyJSON(t, s, "--tls-verify=false", ref)
				if len(rep.Images) != 1 || rep.Images[0].Platform != tc.label || len(rep.Images[0].Mismatches) != 1 {
					t.Fatalf("report %+v: want one %s image with one mismatch", rep, tc.label)
				}
				if m := rep.Images[0].Mismatches[0]; m.Path != "/bin/busybox" || m.Machine != tc.file || !strings.Contains(m.Reason, tc.want) {
					t.Errorf("mismatch %+v, want /bin/busybox, %s, not %s", m, tc.file, tc.want)
				}
			}
		})
	}
}

// TestVerifyFixtures verifies every platform of the fixture index from the
// layout, the oci-archive and the registry, and the attestation fixture.
func TestVerifyFixtures(t *testing.T) {
	s := newStore(t)
	_, idx := fixtureLayout(t, "latest")
	_, three := fixtureLayout(t, "3arch")
	tests := []struct {
		ref  string
		want specs.Index
	}{
		{"oci:" + filepath.Join(env.Fixtures, "busybox-oci") + ":latest", idx},
		{"oci-archive:" + filepath.Join(env.Fixtures, "busybox-oci.tar"), idx},
		{"docker://" + registryBase("3arch"), three},
	}
	for _, tc := range tests {
		rep := verifyJSON(t, s, "--tls-verify=false", tc.ref)
		if !rep.OK || len(rep.Images) != len(tc.want.Manifests) {
			t.Fatalf("%s: ok=%v with %d images, want OK with %d", tc.ref, rep.OK, len(rep.Images), len(tc.want.Manifests))
		}
		for i, img := range rep.Images {
			p := tc.want.Manifests[i].Platform
			if want := strings.TrimSuffix(p.OS+"/"+p.Architecture+"/"+p.Variant, "/"); img.Platform != want || img.Config != want || img.ELFFiles != 1 {
				t.Errorf("%s image %d: %s (config %s, %d ELF files), want %s with its busybox", tc.ref, i, img.Platform, img.Config, img.ELFFiles, want)
			}
		}
	}
	att := verifyJSON(t, s, "oci:"+filepath.Join(env.Fixtures, "busybox-oci")+":with-attestation")
	if !att.OK || len(att.Entries) != 1 || att.Entries[0].Kind != "attestation" || att.Entries[0].Platform != "unknown/unknown" {
		t.Errorf("with-attestation: %+v, want OK and its unknown/unknown entry reported as an attestation", att)
	}
}

// TestBuildVerifyThreePlatforms builds 3 platforms with --verify, then
// verifies the result in local storage (by bare name) and in the layout.
func TestBuildVerifyThreePlatforms(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN cp /bin/busybox /bin/tool && uname -m > /arch.txt\n", nil)
	out := filepath.Join(t.TempDir(), "out")
	r := polyarch(t, s, "build", "--verify", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64,linux/s390x",
		"-t", "verified:1", "-o", "type=oci,dest="+out, ctxDir)
	mustSucceed(t, r)
	if !strings.Contains(r.Stderr, "OK: every image matches its platform") {
		t.Errorf("build --verify printed no verdict: %s", r.Stderr)
	}
	for _, ref := range []string{"verified:1", "oci:" + out + ":1"} {
		rep := verifyJSON(t, s, ref)
		if !rep.OK || len(rep.Images) != 3 {
			t.Fatalf("%s: %+v, want OK with 3 images", ref, rep)
		}
		// The base says arm64/v8 in its config, so the entry does too.
		for i, want := range []string{"linux/amd64", "linux/arm64/v8", "linux/s390x"} {
			if img := rep.Images[i]; img.Platform != want || img.ELFFiles != 2 {
				t.Errorf("%s image %d: %s with %d ELF files, want %s with busybox and tool", ref, i, img.Platform, img.ELFFiles, want)
			}
		}
	}
}

// TestBuildVerifyCatchesBuildPlatformTarget builds --target of a stage
// FROM --platform=$BUILDPLATFORM for arm64: its x86_64 programs carry the
// arm64 label. --verify fails the build, and nothing is published: no
// local tag, no output directory, no registry tag.
func TestBuildVerifyCatchesBuildPlatformTarget(t *testing.T) {
	s := newStore(t)
	base := registryBase("latest")
	ctxDir := writeContext(t, "FROM --platform=$BUILDPLATFORM "+base+" AS cross\nRUN cp /bin/busybox /bin/tool\n"+
		"FROM "+base+"\nCOPY --from=cross /bin/tool /bin/tool\n", nil)
	out := filepath.Join(t.TempDir(), "out")
	tag := env.Registry + "/verify-cross:1"
	r := polyarch(t, s, "build", "--verify", "--target", "cross", "--tls-verify=false", "--platform", "linux/arm64",
		"-t", tag, "--push", "-o", "type=oci,dest="+out, ctxDir)
	if r.Code != 1 {
		t.Fatalf("build --verify of x86_64 programs labelled arm64: exit %d, want 1", r.Code)
	}
	for _, want := range []string{"/bin/tool: EM_X86_64 64-bit LSB (linux/amd64) is not EM_AARCH64 64-bit LSB (linux/arm64)", "nothing was tagged, written or pushed"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output %s exists after a failed verify (%v)", out, err)
	}
	if p := podman(t, s, "image", "exists", tag); p.Code != 1 {
		t.Errorf("podman image exists %s: exit %d, want 1 (not tagged)", tag, p.Code)
	}
	if sk := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+tag); sk.Code == 0 || !strings.Contains(sk.Stderr, "unknown") {
		t.Errorf("skopeo inspect %s: exit %d, want it unknown to the registry after a failed verify: %s", tag, sk.Code, sk.Stderr)
	}
}

// TestVerifyHonoursWhiteouts builds an amd64 image whose upper layer
// deletes a foreign (arm64) binary copied in a lower one: it passes
// verify; without the deletion it fails, naming the file.
func TestVerifyHonoursWhiteouts(t *testing.T) {
	s := newStore(t)
	l, idx := fixtureLayout(t, "latest")
	arm64, err := l.file(idx, entryOf(t, idx, "arm64"), "/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	base := "FROM " + registryBase("latest") + "\nCOPY tool /usr/bin/tool\n"
	tests := []struct {
		name, containerfile string
		code                int
	}{
		{"deleted above", base + "RUN rm /usr/bin/tool\n", 0},
		{"kept", base, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctxDir := writeContext(t, tc.containerfile, map[string]string{"tool": arm64})
			r := polyarch(t, s, "build", "--verify", "--tls-verify=false", "--platform", "linux/amd64", ctxDir)
			if r.Code != tc.code {
				t.Errorf("build --verify: exit %d, want %d", r.Code, tc.code)
			}
			if named := strings.Contains(r.Stderr, "/usr/bin/tool: EM_AARCH64"); named != (tc.code != 0) {
				t.Errorf("stderr names /usr/bin/tool as EM_AARCH64: %v, want %v", named, tc.code != 0)
			}
		})
	}
}
