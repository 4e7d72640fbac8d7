package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// oversizedLayout copies the fixture layout and adds three tags over the
// 4 MiB limit: "bigconfig" (an image whose config is 5 MiB),
// "bigmanifest" (a 5 MiB image manifest) and "bigentry" (an index
// listing that manifest). It returns the layout and, per tag, the digest
// and size the error must name.
func oversizedLayout(t *testing.T) (string, map[string]specs.Descriptor) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "big")
	mustSucceed(t, runCmd(t, "", "cp", "-a", filepath.Join(env.Fixtures, "busybox-oci"), dir))
	var idx specs.Index
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "index.json"))), &idx); err != nil {
		t.Fatal(err)
	}
	var man specs.Manifest
	for _, m := range idx.Manifests {
		if m.Annotations[specs.AnnotationRefName] == "amd64-single" {
			(layout{t: t, dir: dir}).readJSON(m.Digest.String(), &man)
		}
	}
	pad := strings.Repeat("x", 5<<20)
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers"}, "padding": pad})
	bigCfg := man
	bigCfg.Config = writeBlob(t, dir, specs.MediaTypeImageConfig, cfg)
	raw, _ := json.Marshal(bigCfg)
	withBigCfg := writeBlob(t, dir, specs.MediaTypeImageManifest, raw)
	bigMan := man
	bigMan.Annotations = map[string]string{"padding": pad}
	raw, _ = json.Marshal(bigMan)
	big := writeBlob(t, dir, specs.MediaTypeImageManifest, raw)
	big.Platform = &specs.Platform{OS: "linux", Architecture: "amd64"}
	raw, _ = json.Marshal(specs.Index{Versioned: idx.Versioned, MediaType: specs.MediaTypeImageIndex, Manifests: []specs.Descriptor{big}})
	entry := writeBlob(t, dir, specs.MediaTypeImageIndex, raw)
	tags := map[string]specs.Descriptor{"bigconfig": withBigCfg, "bigmanifest": big, "bigentry": entry}
	for tag, d := range tags {
		d.Annotations = map[string]string{specs.AnnotationRefName: tag}
		idx.Manifests = append(idx.Manifests, d)
	}
	raw, _ = json.Marshal(idx)
	if err := os.WriteFile(filepath.Join(dir, "index.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, map[string]specs.Descriptor{"bigconfig": bigCfg.Config, "bigmanifest": big, "bigentry": big}
}

// TestCopyRefusesOversizedDocuments copies a layout's images whose
// config or manifest is over 4 MiB, at the top or as an index entry:
// each copy fails naming the digest and the size, and writes nothing.
func TestCopyRefusesOversizedDocuments(t *testing.T) {
	s := newStore(t)
	dir, want := oversizedLayout(t)
	for _, tag := range []string{"bigconfig", "bigmanifest", "bigentry"} {
		t.Run(tag, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			r := polyarch(t, s, "copy", "oci:"+dir+":"+tag, "oci:"+out+":v1")
			d := want[tag]
			if r.Code == 0 || !strings.Contains(r.Stderr, d.Digest.String()) || !strings.Contains(r.Stderr, fmt.Sprintf("%d bytes", d.Size)) {
				t.Errorf("copy of %s: exit %d, stderr %q; want a failure naming %s and %d bytes", tag, r.Code, r.Stderr, d.Digest, d.Size)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a refused copy created %s: %v", out, err)
			}
		})
	}
}
