package index

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"

	"github.com/sirupsen/logrus"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/compression"
	compressiontypes "go.podman.io/image/v5/pkg/compression/types"
	"go.podman.io/image/v5/types"
)

// SharedLayers lets the Stage calls of one build compress a layer that
// several platform images share (same uncompressed digest: a COPY of the
// same file, a layer of a `FROM --platform=$BUILDPLATFORM` stage...) once:
// every finished stage records its layers, and a later stage hard-links
// a recorded layer instead of reading and compressing it again.
// Compression is deterministic, so the bytes are those the stage would
// have written. Stages running at the same time do not wait for each
// other (no claims, so no deadlock): each compresses what is not recorded
// yet. Safe for concurrent use; use NewSharedLayers.
type SharedLayers struct {
	mu     sync.Mutex
	layers map[digest.Digest]sharedLayer // by uncompressed digest
}

// sharedLayer is one compressed layer of a finished stage.
type sharedLayer struct {
	path string         // the blob in that stage's directory
	blob types.BlobInfo // its digest and size
}

// NewSharedLayers returns an empty pool for the stages of one build.
func NewSharedLayers() *SharedLayers {
	return &SharedLayers{layers: map[digest.Digest]sharedLayer{}}
}

// lookup returns the recorded layer whose uncompressed digest is d.
func (s *SharedLayers) lookup(d digest.Digest) (sharedLayer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.layers[d]
	return l, ok
}

// record adds the layers of the image staged in dir: the manifest's
// layers paired with the config's diff_ids.
func (s *SharedLayers) record(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return err
	}
	m, err := manifest.OCI1FromManifest(raw)
	if err != nil {
		return nil // not an OCI image manifest: nothing to share
	}
	cfg, err := os.ReadFile(filepath.Join(dir, m.Config.Digest.Encoded()))
	if err != nil {
		return err
	}
	var c struct {
		RootFS struct {
			DiffIDs []digest.Digest `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(cfg, &c); err != nil || len(c.RootFS.DiffIDs) != len(m.Layers) {
		return nil // layers and diff_ids do not pair up: share nothing
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, l := range m.Layers {
		if l.Digest == c.RootFS.DiffIDs[i] || len(l.Annotations) > 0 {
			continue // uncompressed, or with annotations a reuse would drop
		}
		if _, ok := s.layers[c.RootFS.DiffIDs[i]]; !ok {
			s.layers[c.RootFS.DiffIDs[i]] = sharedLayer{path: filepath.Join(dir, l.Digest.Encoded()), blob: types.BlobInfo{Digest: l.Digest, Size: l.Size}}
		}
	}
	return nil
}

// sharedRef is a dir: staging reference whose destination takes layers
// from, and gives them to, a SharedLayers pool.
type sharedRef struct {
	types.ImageReference
	dir  string
	pool *SharedLayers
	algo compressiontypes.Algorithm
}

// NewImageDestination wraps the dir: destination.
func (r sharedRef) NewImageDestination(ctx context.Context, sys *types.SystemContext) (types.ImageDestination, error) {
	d, err := r.ImageReference.NewImageDestination(ctx, sys)
	if err != nil {
		return nil, err
	}
	return &sharedDest{ImageDestination: d, ref: r}, nil
}

// sharedDest is the dir: destination of one stage.
type sharedDest struct {
	types.ImageDestination
	ref sharedRef
}

// TryReusingBlob hard-links a layer a finished stage compressed.
func (d *sharedDest) TryReusingBlob(ctx context.Context, info types.BlobInfo, cache types.BlobInfoCache, canSubstitute bool) (bool, types.BlobInfo, error) {
	if ok, blob, err := d.ImageDestination.TryReusingBlob(ctx, info, cache, canSubstitute); err != nil || ok {
		return ok, blob, err
	}
	if !canSubstitute || info.Digest == "" {
		return false, types.BlobInfo{}, nil
	}
	l, ok := d.ref.pool.lookup(info.Digest)
	if !ok {
		return false, types.BlobInfo{}, nil
	}
	err := os.Link(l.path, filepath.Join(d.ref.dir, l.blob.Digest.Encoded()))
	if err != nil && !os.IsExist(err) {
		return false, types.BlobInfo{}, nil // that stage's directory is gone: compress it here
	}
	logrus.Debugf("staging: layer %s compressed by another platform, reused as %s", info.Digest, l.blob.Digest)
	algo := d.ref.algo
	return true, types.BlobInfo{Digest: l.blob.Digest, Size: l.blob.Size, CompressionOperation: types.Compress, CompressionAlgorithm: &algo}, nil
}

// sharedStaging wraps the dir: reference of a staging directory in the
// pool of o, when it has one and the format allows reuse (zstd:chunked
// layers carry per-layer annotations that a reused blob would lose).
func sharedStaging(ref types.ImageReference, dir string, o StageOptions) types.ImageReference {
	if o.Shared == nil || o.Compression.Format == ZstdChunked {
		return ref
	}
	algo := compression.Gzip
	if o.Compression.Format != "" {
		a, err := compression.AlgorithmByName(o.Compression.Format)
		if err != nil {
			return ref
		}
		algo = a
	}
	return sharedRef{ImageReference: ref, dir: dir, pool: o.Shared, algo: algo}
}
