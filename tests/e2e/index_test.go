package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestIndexSeedFlow builds and pushes two single-platform images (each a
// plain image, as podman build makes), joins them into one index with
// `index create` and publishes it with `index push`; skopeo, podman and an
// OCI layout then see both platforms, in argument order, each entry being
// the image pushed before.
func TestIndexSeedFlow(t *testing.T) {
	s := newStore(t)
	repo := env.Registry + "/seed/app"
	ctxDir := writeContext(t, fmt.Sprintf(archContainerfile, registryBase("latest")), nil)
	archs := []string{"amd64", "arm64"}
	single := map[string]string{} // arch -> digest of the pushed single image
	for _, arch := range archs {
		tag := repo + ":v1-" + arch
		mustSucceed(t, polyarch(t, s, "build", "--platform", "linux/"+arch, "-t", tag, "--push", "--tls-verify=false", ctxDir))
		single[arch] = skopeoDigest(t, "docker://"+tag)
	}
	mustSucceed(t, polyarch(t, s, "index", "create", repo+":v1", "docker://"+repo+":v1-amd64", "docker://"+repo+":v1-arm64", "--tls-verify=false"))
	push := polyarch(t, s, "index", "push", repo+":v1", "docker://"+repo+":v1", "--tls-verify=false")
	mustSucceed(t, push)

	raw := skopeoRaw(t, "docker://"+repo+":v1")
	idx := decodeIndex(t, raw)
	if got := platformsOf(idx); !reflect.DeepEqual(got, []string{"linux/amd64", "linux/arm64"}) {
		t.Fatalf("pushed index lists %v, want linux/amd64, linux/arm64", got)
	}
	if got := strings.TrimSpace(push.Stdout); got != "sha256:"+sha256hex(raw) {
		t.Errorf("index push printed %q, want the digest of the pushed index sha256:%s", got, sha256hex(raw))
	}
	for i, arch := range archs {
		if d := idx.Manifests[i].Digest.String(); d != single[arch] {
			t.Errorf("entry %s is %s, want the pushed single image %s", arch, d, single[arch])
		}
		checkOverrideArch(t, "docker://"+repo+":v1", arch)
	}
	checkPodmanSees(t, s, repo+":v1", archs)
	if r := polyarch(t, s, "index", "inspect", repo+":v1"); r.Code != 0 || !strings.Contains(r.Stdout, single["arm64"]) {
		t.Errorf("index inspect of the local index: exit %d, want it to list %s", r.Code, single["arm64"])
	}
	out := filepath.Join(t.TempDir(), "oci")
	mustSucceed(t, polyarch(t, s, "index", "push", "--quiet", repo+":v1", "oci:"+out+":v1", "--tls-verify=false"))
	checkArchLayout(t, out, []string{"linux/amd64", "linux/arm64"})

	// The same from local storage: bare names of the built images.
	mustSucceed(t, polyarch(t, s, "index", "create", "seed/local:v1", repo+":v1-arm64", repo+":v1-amd64"))
	local := filepath.Join(t.TempDir(), "local")
	mustSucceed(t, polyarch(t, s, "index", "push", "seed/local:v1", "oci:"+local+":v1"))
	checkArchLayout(t, local, []string{"linux/arm64", "linux/amd64"})
	checkPodmanSees(t, s, "localhost/seed/local:v1", []string{"arm64", "amd64"})
}

// checkOverrideArch asserts that skopeo finds an image for arch in ref
// whose config says arch.
func checkOverrideArch(t *testing.T, ref, arch string) {
	t.Helper()
	r := skopeo(t, "inspect", "--override-arch", arch, "--tls-verify=false", ref)
	mustSucceed(t, r)
	var img struct{ Architecture string }
	if err := json.Unmarshal([]byte(r.Stdout), &img); err != nil || img.Architecture != arch {
		t.Errorf("skopeo inspect --override-arch %s reads architecture %q (%v)", arch, img.Architecture, err)
	}
}

// decodeIndex parses an image index or manifest list.
func decodeIndex(t *testing.T, raw string) specs.Index {
	t.Helper()
	var idx specs.Index
	if err := json.Unmarshal([]byte(raw), &idx); err != nil {
		t.Fatalf("decoding index %q: %v", raw, err)
	}
	return idx
}

// localPlatforms returns the platforms of the local index name, in order.
func localPlatforms(t *testing.T, s store, name string) []string {
	t.Helper()
	r := polyarch(t, s, "index", "inspect", "--raw", name)
	mustSucceed(t, r)
	return platformsOf(decodeIndex(t, r.Stdout))
}

// TestIndexEditing runs create (from index sources, --platform, --replace,
// --amend), rm and annotate in sequence, checking the local index after
// each step, or the error of a step that must fail.
func TestIndexEditing(t *testing.T) {
	s := newStore(t)
	three, amd := "docker://"+registryBase("3arch"), "docker://"+registryBase("amd64")
	name := "localhost/idx/edit:1"
	armDigest := decodeIndex(t, skopeoRaw(t, three)).Manifests[1].Digest.String()
	for _, step := range []struct {
		args []string
		want []string // platforms of name afterwards
		fail []string // parts of the expected error
	}{
		{args: []string{"create", name, three, amd, "--tls-verify=false"}, fail: []string{"linux/amd64 comes from both " + three + " and " + amd, "--replace"}},
		{args: []string{"create", name, "--replace", three, amd, "--tls-verify=false"}, want: []string{"linux/arm64", "linux/s390x", "linux/amd64"}},
		{args: []string{"create", name, three, "--tls-verify=false"}, fail: []string{name + " already exists", "--amend"}},
		{args: []string{"create", "--amend", "--platform", "linux/ppc64le,linux/arm/v7", "--tls-verify=false", name, registryBase("latest")}, want: []string{"linux/arm64", "linux/s390x", "linux/amd64", "linux/arm/v7", "linux/ppc64le"}},
		{args: []string{"add", name, registryBase("latest"), "--platform", "linux/riscv64", "--tls-verify=false"}, fail: []string{"no source offers linux/riscv64", "linux/mips64le"}},
		{args: []string{"rm", name, "linux/arm/v7"}, want: []string{"linux/arm64", "linux/s390x", "linux/amd64", "linux/ppc64le"}},
		{args: []string{"rm", name, armDigest}, want: []string{"linux/s390x", "linux/amd64", "linux/ppc64le"}},
		{args: []string{"rm", name, "linux/arm64"}, fail: []string{"no entry linux/arm64", "it has sha256:", "linux/ppc64le"}},
		{args: []string{"add", "--platform", "linux/arm64", "--tls-verify=false", name, three}, want: []string{"linux/s390x", "linux/amd64", "linux/ppc64le", "linux/arm64"}},
		{args: []string{"annotate", name, "linux/amd64", "--os-version", "6.1", "--annotation", "org.example.role=main"}, want: []string{"linux/s390x", "linux/amd64", "linux/ppc64le", "linux/arm64"}},
		{args: []string{"annotate", name, "--index", "--annotation", "org.opencontainers.image.source=https://example.com/app"}, want: []string{"linux/s390x", "linux/amd64", "linux/ppc64le", "linux/arm64"}},
		{args: []string{"annotate", name, "linux/mips64le", "--annotation", "a=b"}, fail: []string{"no entry linux/mips64le"}},
	} {
		r := polyarch(t, s, append([]string{"index"}, step.args...)...)
		if len(step.fail) > 0 {
			if r.Code == 0 {
				t.Fatalf("index %v succeeded, want an error", step.args)
			}
			for _, part := range step.fail {
				if !strings.Contains(r.Stderr, part) {
					t.Errorf("index %v: error %q lacks %q", step.args, r.Stderr, part)
				}
			}
			continue
		}
		mustSucceed(t, r)
		if got := localPlatforms(t, s, name); !reflect.DeepEqual(got, step.want) {
			t.Fatalf("after index %v: %v, want %v", step.args, got, step.want)
		}
	}
	checkPushedAnnotations(t, s, name)
}

// checkPushedAnnotations pushes the annotated index to an OCI layout and
// checks what skopeo reads there.
func checkPushedAnnotations(t *testing.T, s store, name string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "oci")
	mustSucceed(t, polyarch(t, s, "index", "push", "--tls-verify=false", name, "oci:"+out+":v1"))
	idx := decodeIndex(t, skopeoRaw(t, "oci:"+out+":v1"))
	if got := idx.Annotations["org.opencontainers.image.source"]; got != "https://example.com/app" {
		t.Errorf("index annotation = %q", got)
	}
	amd := idx.Manifests[1]
	if amd.Platform == nil || amd.Platform.OSVersion != "6.1" || amd.Annotations["org.example.role"] != "main" {
		t.Errorf("annotated linux/amd64 entry = %+v", amd)
	}
}

// TestIndexPushFormats creates an index from a registry index and pushes
// it back as a Docker manifest list and as an OCI index, with
// --digestfile.
func TestIndexPushFormats(t *testing.T) {
	s := newStore(t)
	name := env.Registry + "/idx/formats:1"
	mustSucceed(t, polyarch(t, s, "index", "create", "--tls-verify=false", name, registryBase("3arch")))
	for _, tc := range []struct{ format, mediaType string }{
		{format: "v2s2", mediaType: "application/vnd.docker.distribution.manifest.list.v2+json"},
		{format: "oci", mediaType: specs.MediaTypeImageIndex},
	} {
		dest := "docker://" + env.Registry + "/idx/formats:" + tc.format
		digestFile := filepath.Join(t.TempDir(), "digest")
		mustSucceed(t, polyarch(t, s, "index", "push", "--format", tc.format, "--digestfile", digestFile, "--tls-verify=false", name, dest))
		raw := skopeoRaw(t, dest)
		idx := decodeIndex(t, raw)
		if idx.MediaType != tc.mediaType || len(idx.Manifests) != 3 {
			t.Errorf("--format %s pushed %s with %d entries, want %s with 3", tc.format, idx.MediaType, len(idx.Manifests), tc.mediaType)
		}
		if b, err := os.ReadFile(digestFile); err != nil || string(b) != "sha256:"+sha256hex(raw) {
			t.Errorf("--digestfile holds %q (%v), want sha256:%s", b, err, sha256hex(raw))
		}
		checkOverrideArch(t, dest, "s390x")
	}
	// Without DESTINATION, NAME is pushed to its own registry.
	mustSucceed(t, polyarch(t, s, "index", "push", "-q", "--tls-verify=false", name))
	if got := platformsOf(decodeIndex(t, skopeoRaw(t, "docker://"+name))); len(got) != 3 {
		t.Errorf("push to NAME's registry: %v", got)
	}
}
