package index

import (
	"context"
	"fmt"
	"io"
	"slices"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/blobinfocache"
	"go.podman.io/image/v5/types"
)

// transfer writes an index (or image) to a destination byte for byte, in
// dependency order: every blob (each once, those present skipped), then
// each child manifest by digest, then the top manifest under the tag.
// Only the top manifest may differ from the source's: an index reduced
// to some of its entries.
type transfer struct {
	source   types.ImageSource
	top      []byte
	children []child
	// fetchForeign copies foreign layers, read from their urls; by
	// default they are skipped: the destination keeps their urls.
	fetchForeign bool
}

// child is one manifest sent: an entry of an index, or the image itself.
type child struct {
	digest digest.Digest
	raw    []byte
	blobs  []types.BlobInfo
}

// openTransfer reads the top manifest of src and its children. With keep
// set, only those entries are sent and the index is rewritten to list
// only them, every other byte as it was. Call close when done.
func openTransfer(ctx context.Context, sys *types.SystemContext, src types.ImageReference, keep []digest.Digest) (*transfer, error) {
	source, err := src.NewImageSource(ctx, sys)
	if err != nil {
		return nil, err
	}
	t := &transfer{source: source}
	if err := t.read(ctx, keep); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// read fills the top manifest and the children, reduced to keep if set.
func (t *transfer) read(ctx context.Context, keep []digest.Digest) error {
	raw, mime, err := t.source.GetManifest(ctx, nil)
	if err != nil {
		return err
	}
	if t.top = raw; keep != nil {
		if t.top, err = keepEntries(raw, mime, keep); err != nil {
			return err
		}
	}
	t.children, err = readChildren(ctx, t.source, raw, mime, keep)
	return err
}

// close releases the source.
func (t *transfer) close() { _ = t.source.Close() }

// sendContent uploads the blobs, then the child manifests by digest.
func (t *transfer) sendContent(ctx context.Context, sys *types.SystemContext, dest types.ImageReference, report io.Writer) error {
	target, err := dest.NewImageDestination(ctx, sys)
	if err != nil {
		return err
	}
	defer target.Close()
	return t.putContent(ctx, target, blobinfocache.DefaultCache(sys), report)
}

// putContent writes the blobs, then the child manifests by digest (a
// single image too, before putTop writes it under the tag), to target.
func (t *transfer) putContent(ctx context.Context, target types.ImageDestination, cache types.BlobInfoCache, report io.Writer) error {
	if err := putBlobs(ctx, t.source, target, cache, t.children, t.fetchForeign, report); err != nil {
		return err
	}
	for _, c := range t.children {
		d := c.digest
		if err := target.PutManifest(ctx, c.raw, &d); err != nil {
			return fmt.Errorf("writing manifest %s: %w", d, err)
		}
		progress(report, "Writing manifest %s\n", d)
	}
	return nil
}

// sendTop writes the top manifest under dest's tag and returns its digest.
func (t *transfer) sendTop(ctx context.Context, sys *types.SystemContext, dest types.ImageReference, report io.Writer) (digest.Digest, error) {
	target, err := dest.NewImageDestination(ctx, sys)
	if err != nil {
		return "", err
	}
	defer target.Close()
	return t.putTop(ctx, target, dest, report)
}

// putTop writes the top manifest to target and commits it.
func (t *transfer) putTop(ctx context.Context, target types.ImageDestination, dest types.ImageReference, report io.Writer) (digest.Digest, error) {
	if err := target.PutManifest(ctx, t.top, nil); err != nil {
		return "", fmt.Errorf("writing %s: %w", transportName(dest), err)
	}
	d := digest.FromBytes(t.top)
	progress(report, "Writing %s %s\n", transportName(dest), d)
	if err := target.Commit(ctx, image.UnparsedInstance(t.source, nil)); err != nil {
		return "", err
	}
	return d, nil
}

// send writes everything to dest through one destination, as layouts and
// archives need, and returns the digest of the top manifest.
func (t *transfer) send(ctx context.Context, sys *types.SystemContext, dest types.ImageReference, report io.Writer) (digest.Digest, error) {
	target, err := dest.NewImageDestination(ctx, sys)
	if err != nil {
		return "", err
	}
	defer target.Close()
	if err := t.putContent(ctx, target, blobinfocache.DefaultCache(sys), report); err != nil {
		return "", err
	}
	return t.putTop(ctx, target, dest, report)
}

// readChildren returns the child manifests of an index (those in keep,
// if set) with their blobs, or, for a single image, the image itself.
func readChildren(ctx context.Context, source types.ImageSource, rawTop []byte, mime string, keep []digest.Digest) ([]child, error) {
	if !manifest.MIMETypeIsMultiImage(mime) {
		m, err := manifest.FromBlob(rawTop, mime)
		if err != nil {
			return nil, err
		}
		return []child{{digest: digest.FromBytes(rawTop), raw: rawTop, blobs: manifestBlobs(m)}}, nil
	}
	list, err := manifest.ListFromBlob(rawTop, mime)
	if err != nil {
		return nil, err
	}
	var out []child
	for _, d := range list.Instances() {
		if keep != nil && !slices.Contains(keep, d) {
			continue
		}
		raw, mt, err := source.GetManifest(ctx, &d)
		if err != nil {
			return nil, fmt.Errorf("reading manifest %s: %w", d, err)
		}
		m, err := manifest.FromBlob(raw, mt)
		if err != nil {
			return nil, fmt.Errorf("parsing manifest %s: %w", d, err)
		}
		out = append(out, child{digest: d, raw: raw, blobs: manifestBlobs(m)})
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

// putBlobs uploads each distinct blob once, skipping those present and,
// unless fetchForeign, foreign layers (left at their urls).
func putBlobs(ctx context.Context, source types.ImageSource, target types.ImageDestination, cache types.BlobInfoCache, children []child, fetchForeign bool, report io.Writer) error {
	seen := map[digest.Digest]bool{}
	for _, c := range children {
		for i, b := range c.blobs {
			if seen[b.Digest] {
				continue
			}
			seen[b.Digest] = true
			if len(b.URLs) > 0 && !fetchForeign {
				progress(report, "Skipping foreign layer %s (left at its urls)\n", b.Digest)
				continue
			}
			if err := putBlob(ctx, source, target, cache, b, i == 0, report); err != nil {
				return fmt.Errorf("pushing blob %s of manifest %s: %w", b.Digest, c.digest, err)
			}
		}
	}
	return nil
}

// putBlob uploads one blob unless the destination already has it.
func putBlob(ctx context.Context, source types.ImageSource, target types.ImageDestination, cache types.BlobInfoCache, b types.BlobInfo, isConfig bool, report io.Writer) error {
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

// keepEntries returns the index raw of type mime listing only the entries
// in keep, in their order; the rest of the index is kept as it was, as
// containers/image does when it strips an index.
func keepEntries(raw []byte, mime string, keep []digest.Digest) ([]byte, error) {
	switch mime {
	case manifest.DockerV2ListMediaType:
		list, err := manifest.Schema2ListFromManifest(raw)
		if err != nil {
			return nil, err
		}
		list.Manifests = slices.DeleteFunc(list.Manifests, func(m manifest.Schema2ManifestDescriptor) bool { return !slices.Contains(keep, m.Digest) })
		return list.Serialize()
	default:
		index, err := manifest.OCI1IndexFromManifest(raw)
		if err != nil {
			return nil, fmt.Errorf("parsing index: %w", err)
		}
		index.Manifests = slices.DeleteFunc(index.Manifests, func(m specs.Descriptor) bool { return !slices.Contains(keep, m.Digest) })
		return index.Serialize()
	}
}
