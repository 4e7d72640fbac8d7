package builder

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/types"
)

// countingSource counts the reads that reach the transport.
type countingSource struct {
	types.ImageSource
	manifests, blobs atomic.Int32
}

func (c *countingSource) GetManifest(ctx context.Context, d *digest.Digest) ([]byte, string, error) {
	c.manifests.Add(1)
	time.Sleep(time.Millisecond) // a registry round trip: concurrent readers overlap
	return c.ImageSource.GetManifest(ctx, d)
}

func (c *countingSource) GetBlob(ctx context.Context, info types.BlobInfo, cache types.BlobInfoCache) (io.ReadCloser, int64, error) {
	c.blobs.Add(1)
	return c.ImageSource.GetBlob(ctx, info, cache)
}

// TestCachedSourceReadsOnce resolves every platform of the fixture index
// twice through one cachedSource, one after the other and all at once:
// each manifest and config reaches the transport once.
func TestCachedSourceReadsOnce(t *testing.T) {
	fixtures := os.Getenv("POLYARCH_FIXTURES")
	if fixtures == "" {
		t.Fatal("POLYARCH_FIXTURES is not set: run `make unit` (it builds the fixtures)")
	}
	ref, err := layout.NewReference(filepath.Join(fixtures, "busybox-oci"), "3arch")
	if err != nil {
		t.Fatal(err)
	}
	for _, concurrent := range []bool{false, true} {
		ctx := context.Background()
		raw, err := ref.NewImageSource(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		counter := &countingSource{ImageSource: raw}
		src := newCachedSource(counter)
		archs := []string{"amd64", "arm64", "s390x"}
		var wg sync.WaitGroup
		for round := 0; round < 2; round++ {
			for _, arch := range archs {
				resolve := func() {
					sys := &types.SystemContext{OSChoice: "linux", ArchitectureChoice: arch}
					img, err := image.FromSource(ctx, sys, src)
					if err != nil {
						t.Error(err)
						return
					}
					defer img.Close() // a no-op on the shared source
					cfg, err := img.OCIConfig(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if cfg.Architecture != arch {
						t.Errorf("round %d: config for %s says %s", round, arch, cfg.Architecture)
					}
				}
				if concurrent {
					wg.Go(resolve) // as checkBaseLabels reads every platform
				} else {
					resolve()
				}
			}
		}
		wg.Wait()
		if want := int32(1 + len(archs)); counter.manifests.Load() != want {
			t.Errorf("concurrent=%t: %d manifest reads reached the transport, want %d", concurrent, counter.manifests.Load(), want)
		}
		if counter.blobs.Load() != int32(len(archs)) {
			t.Errorf("concurrent=%t: %d blob reads reached the transport, want %d (one config per platform)", concurrent, counter.blobs.Load(), len(archs))
		}
	}
}
