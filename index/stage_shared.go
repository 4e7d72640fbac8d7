package index

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/sirupsen/logrus"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
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
//
// It also knows the compressed blobs the build's bases were read from
// (AddSource): a base layer that a stage finds unchanged in its image is
// copied from there, byte for byte, instead of being compressed again, as
// buildah and podman reuse a base's blobs. A push to the base's registry
// then mounts it from the base's repository (the blob-info cache knows
// where it is) instead of uploading it.
type SharedLayers struct {
	mu      sync.Mutex
	layers  map[digest.Digest]sharedLayer // by uncompressed digest
	sources map[digest.Digest]SourceBlob  // by uncompressed digest
}

// SourceBlob is a compressed layer a base image was read from.
type SourceBlob struct {
	// Blob is the layer as its manifest describes it: digest, size and
	// media type.
	Blob types.BlobInfo
	// Open reads the blob from where the base was read (its registry,
	// layout or archive); cache is the blob-info cache of the copy.
	Open func(ctx context.Context, cache types.BlobInfoCache) (io.ReadCloser, error)
}

// sharedLayer is one compressed layer of a finished stage.
type sharedLayer struct {
	path string         // the blob in that stage's directory
	blob types.BlobInfo // its digest and size
}

// NewSharedLayers returns an empty pool for the stages of one build.
func NewSharedLayers() *SharedLayers {
	return &SharedLayers{layers: map[digest.Digest]sharedLayer{}, sources: map[digest.Digest]SourceBlob{}}
}

// AddSource records that the layer whose uncompressed digest is diffID
// can be read, compressed, as b. Layers with annotations or urls are not
// recorded (a reuse would drop the annotations; foreign layers are not
// copied). Safe on nil.
func (s *SharedLayers) AddSource(diffID digest.Digest, b SourceBlob) {
	if s == nil || diffID == "" || b.Blob.Digest == "" || b.Blob.Digest == diffID || b.Blob.Size < 0 || len(b.Blob.Annotations) > 0 || len(b.Blob.URLs) > 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sources[diffID]; !ok {
		s.sources[diffID] = b
	}
}

// source returns the recorded source blob of diffID.
func (s *SharedLayers) source(diffID digest.Digest) (SourceBlob, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.sources[diffID]
	return b, ok
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
		return d.copySource(ctx, info, cache)
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

// copySource writes the compressed base blob of the layer info (an
// uncompressed digest) into the staging directory, verifying its digest
// and size, when one is known in the format asked for. It returns false,
// and no error, whenever the layer must be compressed here instead.
func (d *sharedDest) copySource(ctx context.Context, info types.BlobInfo, cache types.BlobInfoCache) (bool, types.BlobInfo, error) {
	b, ok := d.ref.pool.source(info.Digest)
	if !ok || !sameAlgorithm(b.Blob.MediaType, d.ref.algo) {
		return false, types.BlobInfo{}, nil
	}
	if err := writeVerified(ctx, b, cache, filepath.Join(d.ref.dir, b.Blob.Digest.Encoded())); err != nil {
		logrus.Debugf("staging: base blob %s of layer %s not reused: %v", b.Blob.Digest, info.Digest, err)
		return false, types.BlobInfo{}, nil
	}
	logrus.Debugf("staging: layer %s copied from its base as %s", info.Digest, b.Blob.Digest)
	algo := d.ref.algo
	return true, types.BlobInfo{Digest: b.Blob.Digest, Size: b.Blob.Size, CompressionOperation: types.Compress, CompressionAlgorithm: &algo}, nil
}

// sameAlgorithm reports whether a layer of media type mt is compressed
// with algo (gzip or zstd; docker and OCI media types).
func sameAlgorithm(mt string, algo compressiontypes.Algorithm) bool {
	switch mt {
	case specs.MediaTypeImageLayerGzip, manifest.DockerV2Schema2LayerMediaType:
		return algo.Name() == compressiontypes.GzipAlgorithmName
	case specs.MediaTypeImageLayerZstd:
		return algo.Name() == compressiontypes.ZstdAlgorithmName
	}
	return false
}

// writeVerified copies b to path, checking its digest and size, so that
// path holds b's bytes or nothing.
func writeVerified(ctx context.Context, b SourceBlob, cache types.BlobInfoCache, path string) error {
	rc, err := b.Open(ctx, cache)
	if err != nil {
		return err
	}
	defer rc.Close()
	verifier := b.Blob.Digest.Verifier()
	return writeAtomically(path, io.TeeReader(io.LimitReader(rc, b.Blob.Size+1), verifier), func(n int64) error {
		switch {
		case n != b.Blob.Size:
			return fmt.Errorf("read %d bytes, the manifest says %d", n, b.Blob.Size)
		case !verifier.Verified():
			return fmt.Errorf("content does not match digest %s", b.Blob.Digest)
		}
		return nil
	})
}
