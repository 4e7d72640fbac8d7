package index

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/directory"
	"go.podman.io/image/v5/pkg/blobinfocache/memory"
	"go.podman.io/image/v5/types"
)

// TestSharedLayersSourceBlob stages a layer whose base blob is known: it
// is copied byte for byte (digest checked) when the format matches, and
// left to compression otherwise.
func TestSharedLayersSourceBlob(t *testing.T) {
	blob := []byte("the base's compressed layer")
	diffID := digest.FromString("the layer, uncompressed")
	for _, tc := range []struct {
		name       string
		content    []byte // what the source serves
		mediaType  string
		format     string
		substitute bool
		reused     bool
	}{
		{"gzip base, gzip output", blob, specs.MediaTypeImageLayerGzip, "", true, true},
		{"gzip base, explicit gzip", blob, specs.MediaTypeImageLayerGzip, Gzip, true, true},
		{"gzip base, zstd output", blob, specs.MediaTypeImageLayerGzip, Zstd, true, false},
		{"zstd base, zstd output", blob, specs.MediaTypeImageLayerZstd, Zstd, true, true},
		{"uncompressed base", blob, specs.MediaTypeImageLayer, "", true, false},
		{"wrong bytes", []byte("something else, same size!!"), specs.MediaTypeImageLayerGzip, "", true, false},
		{"no substitution", blob, specs.MediaTypeImageLayerGzip, "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ref, err := directory.NewReference(dir)
			if err != nil {
				t.Fatal(err)
			}
			pool := NewSharedLayers()
			opened := 0
			pool.AddSource(diffID, SourceBlob{
				Blob: types.BlobInfo{Digest: digest.FromBytes(blob), Size: int64(len(blob)), MediaType: tc.mediaType},
				Open: func(context.Context, types.BlobInfoCache) (io.ReadCloser, error) {
					opened++
					return io.NopCloser(bytes.NewReader(tc.content)), nil
				},
			})
			shared := sharedStaging(ref, dir, StageOptions{Shared: pool, Compression: Compression{Format: tc.format}})
			dest, err := shared.NewImageDestination(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer dest.Close()
			ok, got, err := dest.TryReusingBlob(context.Background(), types.BlobInfo{Digest: diffID, Size: -1}, memory.New(), tc.substitute)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.reused {
				t.Fatalf("reused = %v, want %v", ok, tc.reused)
			}
			path := filepath.Join(dir, digest.FromBytes(blob).Encoded())
			staged, rerr := os.ReadFile(path)
			if !tc.reused {
				if rerr == nil {
					t.Errorf("%s was written though the blob was not reused", path)
				}
				leftovers, _ := filepath.Glob(filepath.Join(dir, ".blob-*"))
				if len(leftovers) > 0 {
					t.Errorf("temporary files left: %v", leftovers)
				}
				return
			}
			if !bytes.Equal(staged, blob) || got.Digest != digest.FromBytes(blob) || got.Size != int64(len(blob)) {
				t.Errorf("staged %q as %s (%d bytes), want the base's blob %s", staged, got.Digest, got.Size, digest.FromBytes(blob))
			}
			if got.CompressionOperation != types.Compress || got.CompressionAlgorithm == nil {
				t.Errorf("reused blob not described as compressed: %+v", got)
			}
			if opened != 1 {
				t.Errorf("the source was opened %d times, want 1", opened)
			}
		})
	}
}

// TestSharedLayersAddSourceSkips records no layer a reuse would change.
func TestSharedLayersAddSourceSkips(t *testing.T) {
	d := digest.FromString("layer")
	open := func(context.Context, types.BlobInfoCache) (io.ReadCloser, error) { return nil, io.EOF }
	pool := NewSharedLayers()
	pool.AddSource(d, SourceBlob{Blob: types.BlobInfo{Digest: d, Size: 1}, Open: open})
	pool.AddSource(digest.FromString("a"), SourceBlob{Blob: types.BlobInfo{Digest: digest.FromString("x"), Size: 1, Annotations: map[string]string{"k": "v"}}, Open: open})
	pool.AddSource(digest.FromString("b"), SourceBlob{Blob: types.BlobInfo{Digest: digest.FromString("y"), Size: 1, URLs: []string{"https://example.com/l"}}, Open: open})
	for _, k := range []digest.Digest{d, digest.FromString("a"), digest.FromString("b")} {
		if _, ok := pool.source(k); ok {
			t.Errorf("layer %s was recorded", k)
		}
	}
	var none *SharedLayers
	none.AddSource(d, SourceBlob{}) // safe on nil
}
