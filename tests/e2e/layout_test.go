package e2e

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	"github.com/klauspost/compress/zstd"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// layout reads an OCI image layout directory written by polyarch.
type layout struct {
	t   *testing.T
	dir string
}

// readJSON decodes the blob d of the layout into v.
func (l layout) readJSON(d string, v any) {
	l.t.Helper()
	b, err := os.ReadFile(l.blobPath(d))
	if err != nil {
		l.t.Fatalf("reading blob %s: %v", d, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		l.t.Fatalf("decoding blob %s: %v", d, err)
	}
}

// blobPath returns the file of digest d.
func (l layout) blobPath(d string) string {
	algo, hex, _ := strings.Cut(d, ":")
	return filepath.Join(l.dir, "blobs", algo, hex)
}

// top returns index.json, its one entry and the image index it points
// at; for a single image, an index holding that image alone.
func (l layout) top() (specs.Index, specs.Descriptor, specs.Index) {
	l.t.Helper()
	var top specs.Index
	b, err := os.ReadFile(filepath.Join(l.dir, "index.json"))
	if err != nil {
		l.t.Fatalf("reading index.json: %v", err)
	}
	if err := json.Unmarshal(b, &top); err != nil {
		l.t.Fatalf("decoding index.json: %v", err)
	}
	if len(top.Manifests) != 1 {
		l.t.Fatalf("index.json has %d entries, want exactly 1: %s", len(top.Manifests), b)
	}
	desc := top.Manifests[0]
	var idx specs.Index
	switch desc.MediaType {
	case specs.MediaTypeImageIndex:
		l.readJSON(desc.Digest.String(), &idx)
	case specs.MediaTypeImageManifest: // a single-platform build: the image itself
		idx.Manifests = []specs.Descriptor{desc}
	default:
		l.t.Fatalf("index.json points at %s, want an image index or manifest", desc.MediaType)
	}
	return top, desc, idx
}

// platformsOf returns the normalised os/arch[/variant] of each index
// entry, in order (linux/arm64/v8 is linux/arm64): which platforms an
// index offers. TestIndexEntriesEqualConfigs checks the exact fields.
func platformsOf(idx specs.Index) []string {
	var out []string
	for _, m := range idx.Manifests {
		p := "<none>"
		if m.Platform != nil {
			p = platforms.Format(platforms.Normalize(*m.Platform))
		}
		out = append(out, p)
	}
	return out
}

// verifyBlobs checks that every blob's content matches its name and that
// every descriptor reachable from index.json has the right size.
func (l layout) verifyBlobs() int {
	l.t.Helper()
	root := filepath.Join(l.dir, "blobs", "sha256")
	entries, err := os.ReadDir(root)
	if err != nil {
		l.t.Fatalf("listing blobs: %v", err)
	}
	for _, e := range entries {
		f, err := os.Open(filepath.Join(root, e.Name()))
		if err != nil {
			l.t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			l.t.Fatal(err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != e.Name() {
			l.t.Errorf("blob %s has digest %s", e.Name(), got)
		}
	}
	_, desc, idx := l.top()
	if desc.MediaType == specs.MediaTypeImageIndex {
		l.checkSize(desc)
	}
	for _, m := range idx.Manifests {
		l.checkSize(m)
		var man specs.Manifest
		l.readJSON(m.Digest.String(), &man)
		l.checkSize(man.Config)
		for _, layer := range man.Layers {
			l.checkSize(layer)
		}
	}
	return len(entries)
}

// checkSize fails if the blob of d is missing or of another size.
func (l layout) checkSize(d specs.Descriptor) {
	l.t.Helper()
	st, err := os.Stat(l.blobPath(d.Digest.String()))
	if err != nil {
		l.t.Errorf("blob %s (%s) missing: %v", d.Digest, d.MediaType, err)
		return
	}
	if st.Size() != d.Size {
		l.t.Errorf("blob %s is %d bytes, descriptor says %d", d.Digest, st.Size(), d.Size)
	}
}

// config returns the image config of entry i of the index.
func (l layout) config(idx specs.Index, i int) specs.Image {
	var man specs.Manifest
	l.readJSON(idx.Manifests[i].Digest.String(), &man)
	var cfg specs.Image
	l.readJSON(man.Config.Digest.String(), &cfg)
	return cfg
}

// file returns the content of path in the image of entry i, reading its
// layers from the top down.
func (l layout) file(idx specs.Index, i int, path string) (string, error) {
	_, content, err := l.entry(idx, i, path)
	return content, err
}

// entry returns the tar header and content of path in the image of entry
// i, from the topmost layer that holds it.
func (l layout) entry(idx specs.Index, i int, path string) (*tar.Header, string, error) {
	var man specs.Manifest
	l.readJSON(idx.Manifests[i].Digest.String(), &man)
	for j := len(man.Layers) - 1; j >= 0; j-- {
		h, content, err := l.fileInLayer(man.Layers[j], path)
		if err != nil {
			return nil, "", err
		}
		if h != nil {
			return h, content, nil
		}
	}
	return nil, "", errors.New(path + " not found in any layer")
}

// fileInLayer looks for path in one gzip, zstd or plain tar layer; a nil
// header means absent.
func (l layout) fileInLayer(d specs.Descriptor, path string) (*tar.Header, string, error) {
	f, err := os.Open(l.blobPath(d.Digest.String()))
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	var r io.Reader = f
	switch {
	case strings.HasSuffix(d.MediaType, "gzip"):
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, "", err
		}
		r = gz
	case strings.HasSuffix(d.MediaType, "zstd"):
		zr, err := zstd.NewReader(f)
		if err != nil {
			return nil, "", err
		}
		defer zr.Close()
		r = zr
	}
	tr := tar.NewReader(r)
	want := strings.TrimPrefix(path, "/")
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", err
		}
		if strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/") == want {
			b, err := io.ReadAll(tr)
			return h, string(b), err
		}
	}
}

// treeHash summarises every path, mode and content under dir, to prove a
// directory was left untouched.
func treeHash(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		io.WriteString(h, rel+"\x00"+info.Mode().String()+"\x00")
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("hashing %s: %v", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
