package index

import (
	"context"
	"fmt"
	"io"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/common/pkg/retry"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/blobinfocache"
	"go.podman.io/image/v5/types"
)

// MergeSource is where a merge takes one or more children from.
type MergeSource struct {
	// Ref is where the manifest lives: a registry repository (by digest
	// or tag) or an OCI layout. Nil: the destination's repository.
	Ref types.ImageReference
	// Digest is the child's manifest digest; "" takes Ref's top manifest:
	// an image, or every entry with a platform of an index.
	Digest digest.Digest
	// Platform is the platform the child is said to be for (by a metadata
	// file); nil trusts its config.
	Platform *specs.Platform
	// Origin names the source in messages: a metadata file or an argument.
	Origin string
}

// MergeOptions configures Merge.
type MergeOptions struct {
	// AllowShrink lets the new index replace a published tag that lists
	// platforms it lacks; default: refused with a *ShrinkError.
	AllowShrink bool
	// Retry is how many times a failed push is retried, with backoff.
	Retry int
	// ReportWriter receives progress lines; nil means silence.
	ReportWriter io.Writer
	// Sign signs every child and the index in dest's repository, after
	// carrying there the signatures children have where they are read
	// (see signMerge).
	Sign SignOptions
}

// Merge builds an OCI index of the children srcs name, without
// re-serialising any of them, and publishes it under dest's tag, as
// `docker buildx imagetools create` does: each child must exist where its
// source says, be an image whose config matches the platform it is said
// to be for, and be the only child of its platform; the published tag is
// read first and a merge dropping one of its platforms is refused unless
// o.AllowShrink. Then every blob and child manifest is copied byte for
// byte into dest's repository (children already there are skipped blob by
// blob), and the index is written under the tag last. It returns the
// index's digest.
func Merge(ctx context.Context, sys *types.SystemContext, dest types.ImageReference, srcs []MergeSource, o MergeOptions) (digest.Digest, error) {
	name := strings.TrimPrefix(transportName(dest), "docker://")
	if dest.Transport().Name() != "docker" {
		return "", fmt.Errorf("merging into %s: the destination must be a registry tag, e.g. docker://REG/REPO:TAG", transportName(dest))
	}
	sign, err := openPushSigner(o.Sign, dest)
	if err != nil {
		return "", err
	}
	defer sign.close()
	m := &merge{sys: sys, dest: dest, sources: map[string]types.ImageSource{}}
	defer m.close()
	children, err := m.resolve(ctx, srcs)
	if err != nil {
		return "", fmt.Errorf("merging into %s: %w", name, err)
	}
	if !o.AllowShrink {
		if err := CheckShrink(ctx, sys, dest, childPlatforms(children)); err != nil {
			return "", err
		}
	}
	top, err := mergedIndex(children)
	if err != nil {
		return "", fmt.Errorf("merging into %s: %w", name, err)
	}

	if err := retry.IfNecessary(ctx, func() error { return m.push(ctx, children, top, o.ReportWriter) }, &retry.Options{MaxRetry: o.Retry}); err != nil {
		return "", fmt.Errorf("pushing merged index to %s: %w", name, Explain(err, name))
	}
	if err := signMerge(ctx, sys, dest, children, digest.FromBytes(top), sign.s, o.ReportWriter); err != nil {
		return "", fmt.Errorf("merging into %s: %w", name, Explain(err, name))
	}
	return digest.FromBytes(top), nil
}

// merge holds the sources a merge reads, opened once each.
type merge struct {
	sys     *types.SystemContext
	dest    types.ImageReference
	sources map[string]types.ImageSource
}

// mergeChild is one image of the merged index, with where it is read.
type mergeChild struct {
	child
	source    types.ImageSource
	mediaType string
	platform  specs.Platform
	origin    string
}

// open returns the source for ref (the destination's when nil), opened
// once per reference.
func (m *merge) open(ctx context.Context, ref types.ImageReference) (types.ImageSource, error) {
	if ref == nil {
		ref = m.dest
	}
	key := transportName(ref)
	if src, ok := m.sources[key]; ok {
		return src, nil
	}
	src, err := ref.NewImageSource(ctx, m.sys)
	if err != nil {
		return nil, err
	}
	m.sources[key] = src
	return src, nil
}

// close releases every source.
func (m *merge) close() {
	for _, src := range m.sources {
		_ = src.Close()
	}
}

// childPlatforms lists the children's platforms.
func childPlatforms(children []mergeChild) []specs.Platform {
	out := make([]specs.Platform, len(children))
	for i, c := range children {
		out[i] = c.platform
	}
	return out
}

// mergedIndex serialises the OCI index listing the children in order,
// each entry's platform exactly its config's.
func mergedIndex(children []mergeChild) ([]byte, error) {
	descs := make([]specs.Descriptor, len(children))
	for i, c := range children {
		p := c.platform
		descs[i] = specs.Descriptor{MediaType: c.mediaType, Digest: c.digest, Size: int64(len(c.raw)), Platform: &p}
	}
	return manifest.OCI1IndexFromComponents(descs, nil).Serialize()
}

// push writes every child's blobs (foreign layers stay at their urls),
// then every child manifest by digest, then the children's referrers
// (see carryReferrers), then the index under dest's tag,
// through one destination, reading back each manifest as it is written.
func (m *merge) push(ctx context.Context, children []mergeChild, top []byte, report io.Writer) error {
	target, err := m.dest.NewImageDestination(ctx, m.sys)
	if err != nil {
		return err
	}
	defer target.Close()
	cache := blobinfocache.DefaultCache(m.sys)
	for _, c := range children {
		if err := putBlobs(ctx, c.source, target, cache, []child{c.child}, false, report); err != nil {
			return fmt.Errorf("copying %s of %s: %w", emulation.FormatPlatform(c.platform), c.origin, err)
		}
	}
	ds := make([]digest.Digest, len(children))
	for i, c := range children {
		ds[i] = c.digest
		if err := target.PutManifest(ctx, c.raw, &ds[i]); err != nil {
			return fmt.Errorf("writing manifest %s of %s: %w", ds[i], emulation.FormatPlatform(c.platform), err)
		}
		progress(report, "Writing manifest %s (%s)\n", ds[i], emulation.FormatPlatform(c.platform))
	}
	if err := verifyChildren(ctx, m.sys, m.dest, ds); err != nil {
		return err
	}
	if err := m.carryReferrers(ctx, target, cache, children, report); err != nil {
		return err
	}
	t := &transfer{source: children[0].source, top: top}
	d, err := t.putTop(ctx, target, m.dest, report)
	if err != nil {
		return err
	}
	return verifyPushed(ctx, m.sys, m.dest, d)
}
