package builder

import (
	"context"
	"io"

	"github.com/polyarch/polyarch/index"
	"go.podman.io/image/v5/types"
)

// The layers a build takes unchanged from its bases are published as the
// bases' own compressed blobs, as buildah and podman do, not compressed
// again out of local storage: each imported base tells the stager's pool
// (index.SharedLayers) where its blobs are, and staging copies a base
// layer from there, digest checked. A push to the base's registry then
// mounts the blob from the base's repository instead of uploading it
// (containers/image's blob-info cache, in the store, recorded where the
// base was read). The output depends only on the base's bytes, so
// identical builds still give identical digests.

// recordBaseBlobs records, in pool, the compressed blob of every layer of
// ref's image for sys's platform choice. Nothing is recorded when pool
// is nil (no output is staged) or the image cannot be read: the layers
// are then compressed out of local storage.
func recordBaseBlobs(ctx context.Context, pool *index.SharedLayers, sys *types.SystemContext, ref types.ImageReference) {
	if pool == nil {
		return
	}
	img, err := metadataImage(ctx, sys, ref)
	if err != nil {
		return
	}
	defer img.Close()
	cfg, err := img.OCIConfig(ctx)
	layers := img.LayerInfos()
	if err != nil || len(cfg.RootFS.DiffIDs) != len(layers) {
		return
	}
	// Staging reads the blobs after this platform's build, whose ctx may
	// be over by then: only the shared sources it carries are kept.
	shared := context.WithoutCancel(ctx)
	for i, blob := range layers {
		pool.AddSource(cfg.RootFS.DiffIDs[i], index.SourceBlob{Blob: blob, Open: func(bctx context.Context, cache types.BlobInfoCache) (io.ReadCloser, error) {
			return openBaseBlob(shared, bctx, sys, ref, blob, cache)
		}})
	}
}

// openBaseBlob reads one blob of ref through the build's shared sources
// (shared carries them; bctx is the reader's). Closing the reader closes
// the source too, which for a registry's shared source does nothing.
func openBaseBlob(shared, bctx context.Context, sys *types.SystemContext, ref types.ImageReference, blob types.BlobInfo, cache types.BlobInfoCache) (io.ReadCloser, error) {
	src, err := metadataSource(shared, sys, ref)
	if err != nil {
		return nil, err
	}
	rc, _, err := src.GetBlob(bctx, blob, cache)
	if err != nil {
		_ = src.Close()
		return nil, err
	}
	return sourceReader{ReadCloser: rc, src: src}, nil
}

// sourceReader is a blob reader that closes its source with itself.
type sourceReader struct {
	io.ReadCloser
	src types.ImageSource
}

// Close closes the blob, then the source.
func (r sourceReader) Close() error {
	err := r.ReadCloser.Close()
	if serr := r.src.Close(); err == nil {
		err = serr
	}
	return err
}
