package index

import (
	"context"
	"fmt"
	"io"
	"os"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/common/pkg/retry"
	cp "go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/directory"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/blobinfocache"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// PushStored pushes the stored index (or image) id to dest, normally
// docker://, in a guaranteed order: every blob of every platform first
// (each blob once; blobs the registry already has are not uploaded again),
// then each child manifest by digest, then the index under dest's tag. A
// failure at any point before the last step leaves the tag as it was. The
// bytes pushed are exactly those an OCI output of the same build holds.
// Network failures are retried o.Retry times with backoff. It returns the
// digest written under the tag.
func PushStored(ctx context.Context, store storage.Store, sys *types.SystemContext, id string, dest types.ImageReference, o PushStoredOptions) (digest.Digest, error) {
	p, err := StagePush(ctx, store, sys, id, o)
	if err != nil {
		return "", err
	}
	defer p.Close()
	if err := p.PushContent(ctx, dest); err != nil {
		return "", err
	}
	return p.PushTag(ctx, dest)
}

// PushStoredOptions configures PushStored and StagePush.
type PushStoredOptions struct {
	// ReportWriter receives progress lines; nil means silence.
	ReportWriter io.Writer
	// Retry is how many times a failed push is retried, with backoff;
	// 0 means none (callers usually pass DefaultRetry).
	Retry int
}

// StagedPush is an index or image staged in a directory next to the
// store, ready to be pushed to one or more destinations in two phases
// (content for all of them, then tags) and exported to OCI outputs, all
// from the same bytes.
type StagedPush struct {
	tmp string
	ref types.ImageReference
	sys *types.SystemContext
	o   PushStoredOptions
}

// StagePush writes the stored index or image id to a staging directory.
// Call Close when done.
func StagePush(ctx context.Context, store storage.Store, sys *types.SystemContext, id string, o PushStoredOptions) (*StagedPush, error) {
	p, err := stagePush(store, sys, o, func(ref types.ImageReference) error {
		return pushStored(ctx, store, sys, id, ref, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("staging %s for push: %w", id, err)
	}
	return p, nil
}

// stagePush creates the staging directory and lets write fill it.
func stagePush(store storage.Store, sys *types.SystemContext, o PushStoredOptions, write func(types.ImageReference) error) (*StagedPush, error) {
	tmp, err := os.MkdirTemp(store.GraphRoot(), "polyarch-push-")
	if err != nil {
		return nil, fmt.Errorf("creating push staging directory: %w", err)
	}
	p := &StagedPush{tmp: tmp, sys: sys, o: o}
	if p.ref, err = directory.NewReference(tmp); err == nil {
		err = write(p.ref)
	}
	if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// StageExport stages an OCI output from the staged bytes, byte for byte
// (no recompression), as StageExport does from local storage.
func (p *StagedPush) StageExport(ctx context.Context, o ExportOptions) (*StagedExport, error) {
	return stageExport(o, func(dest types.ImageReference) error {
		policy, err := policyContext(p.sys)
		if err != nil {
			return err
		}
		defer func() { _ = policy.Destroy() }()
		_, err = cp.Image(ctx, policy, dest, p.ref, &cp.Options{
			ImageListSelection: cp.CopyAllImages, PreserveDigests: true,
			SourceCtx: p.sys, DestinationCtx: p.sys, ReportWriter: o.ReportWriter,
		})
		return err
	})
}

// PushContent uploads every blob, then every child manifest by digest, to
// dest; dest's tag is not touched.
func (p *StagedPush) PushContent(ctx context.Context, dest types.ImageReference) error {
	return p.retry(ctx, dest, func() error { return pushContent(ctx, p.sys, p.ref, dest, p.o.ReportWriter) })
}

// PushTag writes the index (or image manifest) under dest's tag and
// returns its digest. Call it after PushContent succeeded for dest.
func (p *StagedPush) PushTag(ctx context.Context, dest types.ImageReference) (digest.Digest, error) {
	var d digest.Digest
	err := p.retry(ctx, dest, func() (err error) {
		d, err = pushTag(ctx, p.sys, p.ref, dest, p.o.ReportWriter)
		return err
	})
	return d, err
}

// Close removes the staging layout.
func (p *StagedPush) Close() {
	_ = os.RemoveAll(p.tmp)
}

// retry runs f with the configured retries and explains its failure.
func (p *StagedPush) retry(ctx context.Context, dest types.ImageReference, f func() error) error {
	if err := retry.IfNecessary(ctx, f, &retry.Options{MaxRetry: p.o.Retry}); err != nil {
		return fmt.Errorf("pushing to %s: %w", transportName(dest), Explain(err, transportName(dest)))
	}
	return nil
}

// pushed is one manifest being pushed: a child of an index, or the image.
type pushed struct {
	digest digest.Digest
	raw    []byte
	blobs  []types.BlobInfo
}

// PushOrdered copies the index (or image) at src, byte for byte, to dest:
// all blobs, then child manifests by digest, then the top manifest under
// dest's tag.
func PushOrdered(ctx context.Context, sys *types.SystemContext, src, dest types.ImageReference, report io.Writer) (digest.Digest, error) {
	if err := pushContent(ctx, sys, src, dest, report); err != nil {
		return "", err
	}
	return pushTag(ctx, sys, src, dest, report)
}

// pushContent uploads src's blobs, then its manifests by digest, to dest.
func pushContent(ctx context.Context, sys *types.SystemContext, src, dest types.ImageReference, report io.Writer) error {
	source, err := src.NewImageSource(ctx, sys)
	if err != nil {
		return err
	}
	defer source.Close()
	rawTop, mime, err := source.GetManifest(ctx, nil)
	if err != nil {
		return err
	}
	children, err := readChildren(ctx, source, rawTop, mime)
	if err != nil {
		return err
	}
	target, err := dest.NewImageDestination(ctx, sys)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := pushBlobs(ctx, source, target, blobinfocache.DefaultCache(sys), children, report); err != nil {
		return err
	}
	for _, c := range children {
		d := c.digest
		if err := target.PutManifest(ctx, c.raw, &d); err != nil {
			return fmt.Errorf("writing manifest %s: %w", d, err)
		}
		progress(report, "Writing manifest %s\n", d)
	}
	return nil
}

// pushTag writes src's top manifest under dest's tag.
func pushTag(ctx context.Context, sys *types.SystemContext, src, dest types.ImageReference, report io.Writer) (digest.Digest, error) {
	source, err := src.NewImageSource(ctx, sys)
	if err != nil {
		return "", err
	}
	defer source.Close()
	rawTop, _, err := source.GetManifest(ctx, nil)
	if err != nil {
		return "", err
	}
	target, err := dest.NewImageDestination(ctx, sys)
	if err != nil {
		return "", err
	}
	defer target.Close()
	if err := target.PutManifest(ctx, rawTop, nil); err != nil {
		return "", fmt.Errorf("writing %s: %w", transportName(dest), err)
	}
	progress(report, "Writing %s %s\n", transportName(dest), digest.FromBytes(rawTop))
	if err := target.Commit(ctx, image.UnparsedInstance(source, nil)); err != nil {
		return "", err
	}
	return digest.FromBytes(rawTop), nil
}

// readChildren returns every child manifest of an index with its blobs,
// or, for a single image, the image itself.
func readChildren(ctx context.Context, source types.ImageSource, rawIndex []byte, mime string) ([]pushed, error) {
	if !manifest.MIMETypeIsMultiImage(mime) {
		m, err := manifest.FromBlob(rawIndex, mime)
		if err != nil {
			return nil, err
		}
		return []pushed{{digest: digest.FromBytes(rawIndex), raw: rawIndex, blobs: manifestBlobs(m)}}, nil
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
		out = append(out, pushed{digest: d, raw: raw, blobs: manifestBlobs(m)})
	}
	return out, nil
}

// manifestBlobs lists a manifest's config, then its layers.
func manifestBlobs(m manifest.Manifest) []types.BlobInfo {
	blobs := []types.BlobInfo{m.ConfigInfo()}
	for _, l := range m.LayerInfos() {
		blobs = append(blobs, l.BlobInfo)
	}
	return blobs
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
