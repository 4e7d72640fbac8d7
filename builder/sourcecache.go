package builder

import (
	"bytes"
	"context"
	"io"
	"sync"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/index"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/types"
)

// A build resolves each registry base's platform images several times:
// preflight compares every entry's label with its config, then every
// platform's import reads the config again to learn the image ID, even
// when local storage holds that image already (a cached rebuild). Each read
// opened its own connection (a ping) and fetched the index, the entry and
// the config again. Within one build those reads now share one image
// source per registry reference, which keeps every manifest and config it
// read: a cached 3-platform rebuild asks the registry for each document
// once. Only metadata goes through it; layers are copied by
// containers/image from a source of its own.

// maxCachedBlob bounds the blobs the cache keeps (configs).
const maxCachedBlob = 4 << 20

// sourceCache holds the shared sources of a build, by reference.
type sourceCache struct {
	mu      sync.Mutex
	sources map[string]*cachedSource
}

type sourceCacheKey struct{}

// withSourceCache returns ctx carrying a new cache and the function that
// closes its sources at the end of the build.
func withSourceCache(ctx context.Context) (context.Context, func()) {
	c := &sourceCache{sources: map[string]*cachedSource{}}
	return context.WithValue(ctx, sourceCacheKey{}, c), c.close
}

// metadataSource returns an image source of ref for reading manifests and
// configs, shared through ctx's cache for registry references; the caller
// closes it either way.
func metadataSource(ctx context.Context, sys *types.SystemContext, ref types.ImageReference) (types.ImageSource, error) {
	c, _ := ctx.Value(sourceCacheKey{}).(*sourceCache)
	if c == nil || ref.Transport().Name() != "docker" {
		return ref.NewImageSource(ctx, sys)
	}
	key := ref.StringWithinTransport()
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.sources[key]; ok {
		return s, nil
	}
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return nil, err
	}
	s := &cachedSource{ImageSource: src, manifests: map[digest.Digest]cachedManifest{}, blobs: map[digest.Digest][]byte{}}
	c.sources[key] = s
	return s, nil
}

// metadataImage is ref.NewImage through metadataSource: the image of
// sys's platform choice.
func metadataImage(ctx context.Context, sys *types.SystemContext, ref types.ImageReference) (types.ImageCloser, error) {
	src, err := metadataSource(ctx, sys, ref)
	if err != nil {
		return nil, err
	}
	img, err := image.FromSource(ctx, sys, src)
	if err != nil {
		_ = src.Close()
		return nil, err
	}
	return img, nil
}

// close closes every shared source.
func (c *sourceCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range c.sources {
		_ = s.ImageSource.Close()
		delete(c.sources, k)
	}
}

// cachedManifest is one manifest a cachedSource read.
type cachedManifest struct {
	raw  []byte
	mime string
}

// cachedSource is a shared image source that keeps the manifests and
// small blobs it read. Close does nothing: the cache closes it.
type cachedSource struct {
	types.ImageSource
	mu        sync.Mutex
	manifests map[digest.Digest]cachedManifest // "" is the top-level one
	blobs     map[digest.Digest][]byte
}

// Close leaves the source open for the build's next reader.
func (s *cachedSource) Close() error { return nil }

// GetManifest returns the manifest, read once.
func (s *cachedSource) GetManifest(ctx context.Context, instance *digest.Digest) ([]byte, string, error) {
	var key digest.Digest
	if instance != nil {
		key = *instance
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.manifests[key]; ok {
		return bytes.Clone(m.raw), m.mime, nil
	}
	raw, mime, err := s.ImageSource.GetManifest(ctx, instance)
	if err != nil {
		return nil, "", err
	}
	s.manifests[key] = cachedManifest{raw: bytes.Clone(raw), mime: mime}
	return raw, mime, nil
}

// GetBlob returns a blob of known small size (a config) from memory after
// its first read; other blobs are streamed from the registry each time.
func (s *cachedSource) GetBlob(ctx context.Context, info types.BlobInfo, cache types.BlobInfoCache) (io.ReadCloser, int64, error) {
	if info.Size < 0 || info.Size > maxCachedBlob || info.Digest == "" {
		return s.ImageSource.GetBlob(ctx, info, cache)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.blobs[info.Digest]; ok {
		return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
	}
	rc, _, err := s.ImageSource.GetBlob(ctx, info, cache)
	if err != nil {
		return nil, 0, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxCachedBlob+1))
	if err != nil {
		return nil, 0, err
	}
	if digest.FromBytes(b) == info.Digest {
		s.blobs[info.Digest] = b
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
}

// basePlatformsOf is index.Platforms through metadataSource.
func basePlatformsOf(ctx context.Context, sys *types.SystemContext, ref types.ImageReference) ([]specs.Platform, error) {
	src, err := metadataSource(ctx, sys, ref)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return index.SourcePlatforms(ctx, sys, src)
}
