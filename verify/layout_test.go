package verify

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	specsgo "github.com/opencontainers/image-spec/specs-go"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/verify/internal/layertest"
)

// layoutWriter writes an OCI layout by hand, blob by blob, so tests can
// make images no builder would: mislabelled, with whiteouts, with bad entries.
type layoutWriter struct {
	t   *testing.T
	dir string
}

// newLayout creates an empty OCI layout in a temporary directory.
func newLayout(t *testing.T) *layoutWriter {
	t.Helper()
	l := &layoutWriter{t: t, dir: t.TempDir()}
	l.write(filepath.Join(l.dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`))
	return l
}

func (l *layoutWriter) write(path string, data []byte) {
	l.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		l.t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		l.t.Fatal(err)
	}
}

// blob stores data and returns its descriptor.
func (l *layoutWriter) blob(mediaType string, data []byte) specs.Descriptor {
	d := digest.FromBytes(data)
	l.write(filepath.Join(l.dir, "blobs", "sha256", d.Encoded()), data)
	return specs.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}
}

// jsonBlob stores v as JSON.
func (l *layoutWriter) jsonBlob(mediaType string, v any) specs.Descriptor {
	data, err := json.Marshal(v)
	if err != nil {
		l.t.Fatal(err)
	}
	return l.blob(mediaType, data)
}

// image stores an image of the given layers (gzip-compressed) whose config
// says platform, and returns its manifest descriptor with entry as its
// index platform (nil: none).
func (l *layoutWriter) image(platform specs.Platform, entry *specs.Platform, layers ...[]file) specs.Descriptor {
	l.t.Helper()
	cfg := specs.Image{Platform: platform, RootFS: specs.RootFS{Type: "layers"}}
	m := specs.Manifest{Versioned: specsgo.Versioned{SchemaVersion: 2}, MediaType: specs.MediaTypeImageManifest}
	for _, files := range layers {
		raw := layertest.Tar(l.t, files)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		if _, err := zw.Write(raw); err != nil {
			l.t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			l.t.Fatal(err)
		}
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(raw))
		m.Layers = append(m.Layers, l.blob(specs.MediaTypeImageLayerGzip, gz.Bytes()))
	}
	m.Config = l.jsonBlob(specs.MediaTypeImageConfig, cfg)
	d := l.jsonBlob(specs.MediaTypeImageManifest, m)
	d.Platform = entry
	return d
}

// index stores an index of entries and returns its descriptor.
func (l *layoutWriter) index(entries ...specs.Descriptor) specs.Descriptor {
	return l.jsonBlob(specs.MediaTypeImageIndex, specs.Index{Versioned: specsgo.Versioned{SchemaVersion: 2}, MediaType: specs.MediaTypeImageIndex, Manifests: entries})
}

// tag writes index.json naming each root by its tag; it returns the
// layout's directory.
func (l *layoutWriter) tag(roots map[string]specs.Descriptor) string {
	l.t.Helper()
	top := specs.Index{Versioned: specsgo.Versioned{SchemaVersion: 2}, MediaType: specs.MediaTypeImageIndex}
	for name, d := range roots {
		d.Annotations = map[string]string{specs.AnnotationRefName: name}
		d.Platform = nil
		top.Manifests = append(top.Manifests, d)
	}
	data, err := json.Marshal(top)
	if err != nil {
		l.t.Fatal(err)
	}
	l.write(filepath.Join(l.dir, "index.json"), data)
	return l.dir
}

// file is one tar entry of a test layer.
type file = layertest.File
