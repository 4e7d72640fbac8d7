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
// once. Only metadata is kept; layers are copied into local storage by
// containers/image from a source of its own, and staging streams a
// base's unchanged layers through the shared one (see baseblobs.go).

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
	s := newCachedSource(src)
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
// small blobs it read. Readers of different documents read at the same
// time (the platforms' checks run concurrently); readers of one document
// wait for its single read. Close does nothing: the cache closes it.
type cachedSource struct {
	types.ImageSource
	mu        sync.Mutex
	manifests map[digest.Digest]*inflight[cachedManifest] // "" is the top-level one
	blobs     map[digest.Digest]*inflight[[]byte]
}

// newCachedSource wraps src with empty caches.
func newCachedSource(src types.ImageSource) *cachedSource {
	return &cachedSource{ImageSource: src, manifests: map[digest.Digest]*inflight[cachedManifest]{}, blobs: map[digest.Digest]*inflight[[]byte]{}}
}

// inflight is one read, under way (done open) or finished.
type inflight[T any] struct {
	done chan struct{}
	val  T
	kept bool // read without error and kept: val is the document
}

// readOnce returns key's document from m, read by get unless another
// reader is already reading it, whose result is then shared. A failed
// read, or one keep refuses, is not kept: the next reader reads again
// (a waiter for it too). mu guards m; get runs without it.
func readOnce[T any](mu *sync.Mutex, m map[digest.Digest]*inflight[T], key digest.Digest, get func() (T, error), keep func(T) bool) (T, error) {
	mu.Lock()
	if f, ok := m[key]; ok {
		mu.Unlock()
		<-f.done
		if f.kept {
			return f.val, nil
		}
		return get()
	}
	f := &inflight[T]{done: make(chan struct{})}
	m[key] = f
	mu.Unlock()
	val, err := get()
	f.val, f.kept = val, err == nil && keep(val)
	if !f.kept {
		mu.Lock()
		delete(m, key)
		mu.Unlock()
	}
	close(f.done)
	return val, err
}

// Close leaves the source open for the build's next reader.
func (s *cachedSource) Close() error { return nil }

// GetManifest returns the manifest, read once.
func (s *cachedSource) GetManifest(ctx context.Context, instance *digest.Digest) ([]byte, string, error) {
	var key digest.Digest
	if instance != nil {
		key = *instance
	}
	m, err := readOnce(&s.mu, s.manifests, key, func() (cachedManifest, error) {
		raw, mime, err := s.ImageSource.GetManifest(ctx, instance)
		return cachedManifest{raw: raw, mime: mime}, err
	}, func(cachedManifest) bool { return true })
	if err != nil {
		return nil, "", err
	}
	return bytes.Clone(m.raw), m.mime, nil
}

// GetBlob returns a blob of known small size (a config) from memory after
// its first read; other blobs are streamed from the registry each time.
func (s *cachedSource) GetBlob(ctx context.Context, info types.BlobInfo, cache types.BlobInfoCache) (io.ReadCloser, int64, error) {
	if info.Size < 0 || info.Size > maxCachedBlob || info.Digest == "" {
		return s.ImageSource.GetBlob(ctx, info, cache)
	}
	b, err := readOnce(&s.mu, s.blobs, info.Digest, func() ([]byte, error) {
		rc, _, err := s.ImageSource.GetBlob(ctx, info, cache)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, maxCachedBlob+1))
	}, func(b []byte) bool { return digest.FromBytes(b) == info.Digest })
	if err != nil {
		return nil, 0, err
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
