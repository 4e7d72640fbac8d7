package builder

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/types"
)

// countingSource counts the reads that reach the transport.
type countingSource struct {
	types.ImageSource
	manifests, blobs int
}

func (c *countingSource) GetManifest(ctx context.Context, d *digest.Digest) ([]byte, string, error) {
	c.manifests++
	return c.ImageSource.GetManifest(ctx, d)
}

func (c *countingSource) GetBlob(ctx context.Context, info types.BlobInfo, cache types.BlobInfoCache) (io.ReadCloser, int64, error) {
	c.blobs++
	return c.ImageSource.GetBlob(ctx, info, cache)
}

// TestCachedSourceReadsOnce resolves every platform of the fixture index
// twice through one cachedSource: each manifest and config reaches the
// transport once.
func TestCachedSourceReadsOnce(t *testing.T) {
	fixtures := os.Getenv("POLYARCH_FIXTURES")
	if fixtures == "" {
		t.Fatal("POLYARCH_FIXTURES is not set: run `make unit` (it builds the fixtures)")
	}
	ref, err := layout.NewReference(filepath.Join(fixtures, "busybox-oci"), "3arch")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	raw, err := ref.NewImageSource(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	counter := &countingSource{ImageSource: raw}
	src := &cachedSource{ImageSource: counter, manifests: map[digest.Digest]cachedManifest{}, blobs: map[digest.Digest][]byte{}}
	archs := []string{"amd64", "arm64", "s390x"}
	for round := 0; round < 2; round++ {
		for _, arch := range archs {
			sys := &types.SystemContext{OSChoice: "linux", ArchitectureChoice: arch}
			img, err := image.FromSource(ctx, sys, src)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := img.OCIConfig(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Architecture != arch {
				t.Errorf("round %d: config for %s says %s", round, arch, cfg.Architecture)
			}
			_ = img.Close() // a no-op on the shared source
		}
	}
	if want := 1 + len(archs); counter.manifests != want {
		t.Errorf("%d manifest reads reached the transport, want %d", counter.manifests, want)
	}
	if counter.blobs != len(archs) {
		t.Errorf("%d blob reads reached the transport, want %d (one config per platform)", counter.blobs, len(archs))
	}
}
