package index

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/common/pkg/retry"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/pkg/blobinfocache"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// stagingRef is the ref name of the index inside a push staging layout.
const stagingRef = "push"

// PushStored pushes the stored index id to dest (normally docker://) in a
// guaranteed order: every blob of every platform first (each blob once;
// blobs the registry already has are not uploaded again), then each child
// manifest by digest, then the index under dest's tag. A failure at any
// point before the last step leaves the tag as it was. The index is first
// staged in an OCI layout next to the store, so the bytes pushed are
// exactly those an OCI output of the same build holds. It returns the
// index digest.
// Network failures are retried o.Retry times with backoff.
func PushStored(ctx context.Context, store storage.Store, sys *types.SystemContext, id string, dest types.ImageReference, o PushStoredOptions) (digest.Digest, error) {
	tmp, err := os.MkdirTemp(store.GraphRoot(), "polyarch-push-")
	if err != nil {
		return "", fmt.Errorf("creating push staging directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	staged, err := layout.NewReference(filepath.Join(tmp, "layout"), stagingRef)
	if err != nil {
		return "", err
	}
	if err := pushStored(ctx, store, sys, id, staged, nil); err != nil {
		return "", fmt.Errorf("staging index %s for push: %w", id, err)
	}
	var d digest.Digest
	err = retry.IfNecessary(ctx, func() error {
		d, err = PushOrdered(ctx, sys, staged, dest, o.ReportWriter)
		return err
	}, &retry.Options{MaxRetry: o.Retry})
	if err != nil {
		return "", fmt.Errorf("pushing index to %s: %w", transportName(dest), Explain(err, transportName(dest)))
	}
	return d, nil
}

// PushStoredOptions configures PushStored.
type PushStoredOptions struct {
	// ReportWriter receives progress lines; nil means silence.
	ReportWriter io.Writer
	// Retry is how many times a failed push is retried; default 0.
	Retry int
}

// pushed is one manifest of an index being pushed.
type pushed struct {
	digest digest.Digest
	raw    []byte
	blobs  []types.BlobInfo
}

// PushOrdered copies the index at src, byte for byte, to dest: all blobs,
// then child manifests by digest, then the index under dest's tag.
func PushOrdered(ctx context.Context, sys *types.SystemContext, src, dest types.ImageReference, report io.Writer) (digest.Digest, error) {
	source, err := src.NewImageSource(ctx, sys)
	if err != nil {
		return "", err
	}
	defer source.Close()
	rawIndex, mime, err := source.GetManifest(ctx, nil)
	if err != nil {
		return "", err
	}
	children, err := readChildren(ctx, source, rawIndex, mime)
	if err != nil {
		return "", err
	}
	target, err := dest.NewImageDestination(ctx, sys)
	if err != nil {
		return "", err
	}
	defer target.Close()
	cache := blobinfocache.DefaultCache(sys)
	if err := pushBlobs(ctx, source, target, cache, children, report); err != nil {
		return "", err
	}
	for _, c := range children {
		d := c.digest
		if err := target.PutManifest(ctx, c.raw, &d); err != nil {
			return "", fmt.Errorf("writing manifest %s: %w", d, err)
		}
		progress(report, "Writing manifest %s\n", d)
	}
	if err := target.PutManifest(ctx, rawIndex, nil); err != nil {
		return "", fmt.Errorf("writing index: %w", err)
	}
	progress(report, "Writing index %s\n", digest.FromBytes(rawIndex))
	if err := target.Commit(ctx, image.UnparsedInstance(source, nil)); err != nil {
		return "", err
	}
	return digest.FromBytes(rawIndex), nil
}

// readChildren returns every child manifest of an index with its blobs.
func readChildren(ctx context.Context, source types.ImageSource, rawIndex []byte, mime string) ([]pushed, error) {
	if !manifest.MIMETypeIsMultiImage(mime) {
		return nil, fmt.Errorf("expected an image index, found %s", mime)
	}
	list, err := manifest.ListFromBlob(rawIndex, mime)
	if err != nil {
		return nil, err
	}
	var out []pushed
	for _, d := range list.Instances() {
		raw, mt, err := source.GetManifest(ctx, &d)
		if err != nil {
			return nil, fmt.Errorf("reading manifest %s: %w", d, err)
		}
		m, err := manifest.FromBlob(raw, mt)
		if err != nil {
			return nil, fmt.Errorf("parsing manifest %s: %w", d, err)
		}
		blobs := []types.BlobInfo{m.ConfigInfo()}
		for _, l := range m.LayerInfos() {
			blobs = append(blobs, l.BlobInfo)
		}
		out = append(out, pushed{digest: d, raw: raw, blobs: blobs})
	}
	return out, nil
}

// pushBlobs uploads each distinct blob once, skipping those present.
func pushBlobs(ctx context.Context, source types.ImageSource, target types.ImageDestination, cache types.BlobInfoCache, children []pushed, report io.Writer) error {
	seen := map[digest.Digest]bool{}
	for _, c := range children {
		for i, b := range c.blobs {
			if seen[b.Digest] {
				continue
			}
			seen[b.Digest] = true
			if err := pushBlob(ctx, source, target, cache, b, i == 0, report); err != nil {
				return fmt.Errorf("pushing blob %s of manifest %s: %w", b.Digest, c.digest, err)
			}
		}
	}
	return nil
}

// pushBlob uploads one blob unless the destination already has it.
func pushBlob(ctx context.Context, source types.ImageSource, target types.ImageDestination, cache types.BlobInfoCache, b types.BlobInfo, isConfig bool, report io.Writer) error {
	if ok, _, err := target.TryReusingBlob(ctx, b, cache, false); err == nil && ok {
		progress(report, "Skipping blob %s (already present)\n", b.Digest)
		return nil
	}
	rc, _, err := source.GetBlob(ctx, b, cache)
	if err != nil {
		return err
	}
	defer rc.Close()
	progress(report, "Copying blob %s\n", b.Digest)
	_, err = target.PutBlob(ctx, rc, b, cache, isConfig)
	return err
}

// progress writes a progress line if report is set.
func progress(report io.Writer, format string, a ...any) {
	if report != nil {
		fmt.Fprintf(report, format, a...)
	}
}
