package index

import (
	"context"
	"fmt"
	"io"
	"slices"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/pkg/blobinfocache"
	"go.podman.io/image/v5/types"
)

// copyReferrers carries the referrers (provenance and other OCI 1.1
// artifacts) of what a copy wrote from src to dst, as merges carry
// them (see carryReferrers): those of the index, when dst holds it
// unchanged, and of each child dst holds under its source digest. src
// is a registry or an OCI layout (others hold no referrers); dst a
// registry, where each is listed by the referrers API or the subject's
// referrers tag, or an oci: layout (the staged one), where each gets an
// untagged index.json entry. Copies within one repository add nothing.
func copyReferrers(ctx context.Context, src, dst types.ImageReference, opts CopyOptions, plan *copyPlan, written digest.Digest) error {
	if opts.SkipReferrers || !holdsReferrers(src) || !holdsReferrers(dst) || sameRepository(src, dst) {
		return nil
	}
	source, err := src.NewImageSource(ctx, opts.SourceCtx)
	if err != nil {
		return err
	}
	defer source.Close()
	subjects, err := copiedSubjects(ctx, source, written, opts, plan)
	if err != nil || len(subjects) == 0 {
		return err
	}
	target, err := referrersDestination(ctx, dst, opts.DestinationCtx)
	if err != nil {
		return err
	}
	defer target.Close()
	cache := blobinfocache.DefaultCache(opts.DestinationCtx)
	n := 0
	for _, s := range subjects {
		descs, err := referrersAt(ctx, opts.SourceCtx, src, source, s)
		if err != nil {
			return fmt.Errorf("listing the referrers of %s in %s: %w (pass --referrers=false to copy without them)", s, refName(src), err)
		}
		for _, d := range descs {
			if err := copyReferrer(ctx, source, target, cache, d, opts.ReportWriter); err != nil {
				return fmt.Errorf("copying referrer %s of %s from %s: %w", d.Digest, s, refName(src), err)
			}
			n++
			if err := listReferrer(ctx, opts.DestinationCtx, dst, source, target, s, d, opts.ReportWriter); err != nil {
				return fmt.Errorf("listing referrer %s of %s in %s: %w", d.Digest, s, refName(dst), err)
			}
		}
	}
	if n == 0 || dst.Transport().Name() != "oci" {
		return nil
	}
	return target.Commit(ctx, nil)
}

// listReferrer makes d findable as a referrer of subject at dst: in a
// registry through register; in a layout by an untagged index.json
// entry, written when target commits.
func listReferrer(ctx context.Context, sys *types.SystemContext, dst types.ImageReference, source types.ImageSource, target types.ImageDestination, subject digest.Digest, d specs.Descriptor, report io.Writer) error {
	if dst.Transport().Name() == "docker" {
		return register(ctx, sys, reference.TrimNamed(dst.DockerReference()), subject, d, report)
	}
	dd := d.Digest
	raw, _, err := source.GetManifest(ctx, &dd)
	if err != nil {
		return err
	}
	return target.PutManifest(ctx, raw, nil) // untagged: an index.json entry without a name
}

// referrersDestination opens dst for referrers: a registry repository
// as it is, an OCI layout without a tag, so that each manifest written
// without a digest gets an untagged index.json entry.
func referrersDestination(ctx context.Context, dst types.ImageReference, sys *types.SystemContext) (types.ImageDestination, error) {
	if dst.Transport().Name() == "oci" {
		dir, _ := layoutPathAndTag(dst)
		ref, err := layout.NewReference(dir, "")
		if err != nil {
			return nil, err
		}
		dst = ref
	}
	return dst.NewImageDestination(ctx, sys)
}

// copiedSubjects returns the source's top-level digest if written is it,
// then the digests of its children (for an index) that the copy kept
// byte for byte: all of them for a whole copy, the chosen ones for a
// platform subset; none when the copy converted or recompressed.
func copiedSubjects(ctx context.Context, source types.ImageSource, written digest.Digest, opts CopyOptions, plan *copyPlan) ([]digest.Digest, error) {
	if opts.Format != "" || opts.Compression.Format != "" {
		return nil, nil
	}
	raw, mime, err := source.GetManifest(ctx, nil)
	if err != nil {
		return nil, err
	}
	top := digest.FromBytes(raw)
	if !manifest.MIMETypeIsMultiImage(mime) {
		if top == written {
			return []digest.Digest{top}, nil
		}
		return nil, nil
	}
	list, err := manifest.ListFromBlob(raw, mime)
	if err != nil {
		return nil, err
	}
	children := list.Instances()
	if plan.instances != nil {
		children = keptChildren(children, plan.instances)
	}
	if top == written {
		return append([]digest.Digest{top}, children...), nil
	}
	return children, nil
}

// holdsReferrers reports whether ref's transport keeps OCI 1.1
// referrers polyarch can list: registries and OCI layouts.
func holdsReferrers(ref types.ImageReference) bool {
	switch ref.Transport().Name() {
	case "docker":
		return ref.DockerReference() != nil
	case "oci":
		return true
	}
	return false
}

// sameRepository reports whether src and dst are one registry repository.
func sameRepository(src, dst types.ImageReference) bool {
	a, b := src.DockerReference(), dst.DockerReference()
	return src.Transport().Name() == "docker" && dst.Transport().Name() == "docker" && a != nil && b != nil &&
		reference.TrimNamed(a).String() == reference.TrimNamed(b).String()
}

// keptChildren filters subjects down to those the destination's index
// lists, for a platform subset.
func keptChildren(subjects, kept []digest.Digest) []digest.Digest {
	return slices.DeleteFunc(slices.Clone(subjects), func(d digest.Digest) bool { return !slices.Contains(kept, d) })
}
