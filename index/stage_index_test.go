package index

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// stagedImage writes a staged image directory holding an OCI manifest
// with one layer of mediaType and a config whose diff_ids are diffIDs.
func stagedImage(t *testing.T, mediaType string, diffIDs ...digest.Digest) (*Staged, []byte) {
	t.Helper()
	dir := t.TempDir()
	cfg, _ := json.Marshal(map[string]any{"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}})
	layer := []byte("compressed bytes of " + mediaType)
	m := specs.Manifest{MediaType: specs.MediaTypeImageManifest, Config: specs.Descriptor{MediaType: specs.MediaTypeImageConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}}
	m.SchemaVersion = 2
	for range diffIDs {
		m.Layers = append(m.Layers, specs.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(layer), Size: int64(len(layer))})
	}
	raw, _ := json.Marshal(m)
	for name, b := range map[string][]byte{"manifest.json": raw, digest.FromBytes(cfg).Encoded(): cfg, digest.FromBytes(layer).Encoded(): layer} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &Staged{tmp: dir, pushed: map[string]bool{}}, raw
}

func TestRewriteEntries(t *testing.T) {
	gz, gzRaw := stagedImage(t, specs.MediaTypeImageLayerGzip, digest.FromString("a"))
	zs, zsRaw := stagedImage(t, specs.MediaTypeImageLayerZstd, digest.FromString("b"))
	stored := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + digest.FromString("x").String() + `","size":1,"platform":{"architecture":"amd64","os":"linux"}},` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + digest.FromString("y").String() + `","size":1,"platform":{"architecture":"arm64","os":"linux"}}],` +
		`"annotations":{"k":"v"}}`
	out, err := rewriteEntries([]byte(stored), []*Staged{gz, zs})
	if err != nil {
		t.Fatal(err)
	}
	var idx specs.Index
	if err := json.Unmarshal(out, &idx); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		raw  []byte
		arch string
		zstd bool
	}{{gzRaw, "amd64", false}, {zsRaw, "arm64", true}} {
		e := idx.Manifests[i]
		if e.Digest != digest.FromBytes(tc.raw) || e.Size != int64(len(tc.raw)) || e.Platform.Architecture != tc.arch {
			t.Errorf("entry %d = %+v, want the staged %s manifest %s", i, e, tc.arch, digest.FromBytes(tc.raw))
		}
		if got := e.Annotations[zstdInstanceAnnotation] == "true"; got != tc.zstd {
			t.Errorf("entry %d zstd annotation %v, want %v", i, got, tc.zstd)
		}
	}
	if idx.Annotations["k"] != "v" {
		t.Errorf("index annotations lost: %v", idx.Annotations)
	}
	if _, err := rewriteEntries([]byte(stored), []*Staged{gz}); err == nil {
		t.Error("an index of 2 entries accepted 1 staged part")
	}
}

func TestSharedLayersRecord(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mediaType string
		diffIDs   []digest.Digest
		shared    bool
	}{
		{"gzip layer", specs.MediaTypeImageLayerGzip, []digest.Digest{digest.FromString("a")}, true},
		{"zstd layer", specs.MediaTypeImageLayerZstd, []digest.Digest{digest.FromString("b")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := stagedImage(t, tc.mediaType, tc.diffIDs...)
			s := NewSharedLayers()
			if err := s.record(p.tmp); err != nil {
				t.Fatal(err)
			}
			l, ok := s.lookup(tc.diffIDs[0])
			if ok != tc.shared {
				t.Fatalf("lookup(%s) = %v, want %v", tc.diffIDs[0], ok, tc.shared)
			}
			if _, err := os.Stat(l.path); err != nil {
				t.Errorf("recorded path %s: %v", l.path, err)
			}
			if _, ok := s.lookup(digest.FromString("other")); ok {
				t.Error("an unrecorded layer was found")
			}
		})
	}
	// Uncompressed layers (digest = diff_id) are not shared.
	dir := t.TempDir()
	layer := []byte("tar")
	cfg, _ := json.Marshal(map[string]any{"rootfs": map[string]any{"diff_ids": []digest.Digest{digest.FromBytes(layer)}}})
	m, _ := json.Marshal(specs.Manifest{Config: specs.Descriptor{Digest: digest.FromBytes(cfg)}, Layers: []specs.Descriptor{{MediaType: specs.MediaTypeImageLayer, Digest: digest.FromBytes(layer)}}})
	_ = os.WriteFile(filepath.Join(dir, "manifest.json"), m, 0o644)
	_ = os.WriteFile(filepath.Join(dir, digest.FromBytes(cfg).Encoded()), cfg, 0o644)
	s := NewSharedLayers()
	if err := s.record(dir); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.lookup(digest.FromBytes(layer)); ok {
		t.Error("an uncompressed layer was recorded for sharing")
	}
}
