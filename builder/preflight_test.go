package builder

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/types"
)

// writeIndexLayout writes an OCI layout whose ref "v1" is an index with
// the given entry platforms (nil: an entry without platform).
func writeIndexLayout(t *testing.T, dir string, entries []*specs.Platform) {
	t.Helper()
	idx := specs.Index{MediaType: specs.MediaTypeImageIndex}
	idx.SchemaVersion = 2
	for i, p := range entries {
		idx.Manifests = append(idx.Manifests, specs.Descriptor{
			MediaType: specs.MediaTypeImageManifest, Size: 2, Platform: p,
			Digest: digest.FromString(string(rune('a' + i))),
		})
	}
	raw, _ := json.Marshal(idx)
	d := digest.FromBytes(raw)
	top := specs.Index{Manifests: []specs.Descriptor{{MediaType: specs.MediaTypeImageIndex, Digest: d, Size: int64(len(raw)),
		Annotations: map[string]string{specs.AnnotationRefName: "v1"}}}}
	top.SchemaVersion = 2
	topRaw, _ := json.Marshal(top)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()), raw, 0o644))
	must(os.WriteFile(filepath.Join(dir, "index.json"), topRaw, 0o644))
	must(os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644))
}

// TestCheckBasesPlatformless: a base whose entries carry no usable
// platform satisfies no platform, and every missing pair is reported.
func TestCheckBasesPlatformless(t *testing.T) {
	ctxDir := t.TempDir()
	writeIndexLayout(t, filepath.Join(ctxDir, "attest"), []*specs.Platform{{OS: "unknown", Architecture: "unknown"}})
	writeIndexLayout(t, filepath.Join(ctxDir, "none"), []*specs.Platform{nil})
	writeIndexLayout(t, filepath.Join(ctxDir, "amd64"), []*specs.Platform{{OS: "linux", Architecture: "amd64"}})
	arm := specs.Platform{OS: "linux", Architecture: "arm64"}
	amd := specs.Platform{OS: "linux", Architecture: "amd64"}
	o := &Options{ContextDir: ctxDir, Pull: PullMissing}
	needs := []baseNeed{{"oci:attest:v1", arm}, {"oci:none:v1", arm}, {"oci:amd64:v1", amd}, {"oci:amd64:v1", arm}, {"oci:absent:v1", arm}}
	err := checkBases(context.Background(), o, nil, &types.SystemContext{}, needs)
	if err == nil {
		t.Fatal("checkBases accepted bases without a linux/arm64 image")
	}
	for _, want := range []string{
		"oci:attest:v1 has no linux/arm64 image",
		"oci:none:v1 has no linux/arm64 image",
		"oci:amd64:v1 has no linux/arm64 image; it has linux/amd64",
		"oci:absent:v1",
		"cannot be read",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "has no linux/amd64") {
		t.Errorf("linux/amd64 of oci:amd64:v1 reported missing:\n%v", err)
	}
}
