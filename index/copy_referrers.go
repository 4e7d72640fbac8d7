package index

import (
	"context"
	"fmt"
	"io"
	"slices"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/pkg/blobinfocache"
	"go.podman.io/image/v5/types"
)

// carried is what a copy carries of the source's referrers, listed from
// the source before anything is written (a failure to list them stops
// the copy early): the referrers of each subject that has some, in the
// order of subjects (the source's top-level manifest first, then its
// children).
type carried struct {
	// top is the source's top-level digest, whose referrers are carried
	// only if the copy wrote it unchanged.
	top      digest.Digest
	subjects []digest.Digest
	descs    map[digest.Digest][]specs.Descriptor
}

// listCarried lists the referrers (provenance and other OCI 1.1
// artifacts) a copy from src to dst carries, as merges carry them (see
// carryReferrers): those of the index, when dst gets it unchanged, and
// of each child dst gets under its source digest; none when the copy
// converts or recompresses. src is a registry or an OCI layout (others
// hold no referrers), read through source, the open source of the plan;
// dst a registry or an OCI layout. Copies within one repository carry
// nothing. A registry is asked once per subject only when it has the
// referrers API; otherwise one tag list tells which subjects have a
// referrers tag (see referrersOf). nil means nothing to carry.
// conn is a connection to src's registry (see dialReferrers).
func listCarried(ctx context.Context, src, dst types.ImageReference, source types.ImageSource, conn *registryConn, opts CopyOptions, plan *copyPlan) (*carried, error) {
	if !carriesReferrers(src, dst, opts) {
		return nil, nil
	}
	subjects := append([]digest.Digest{plan.digest}, plan.children...)
	if plan.instances != nil {
		subjects = append([]digest.Digest{plan.digest}, keptChildren(plan.children, plan.instances)...)
	}
	c := &carried{top: plan.digest, descs: map[digest.Digest][]specs.Descriptor{}}
	fail := func(err error) error {
		return fmt.Errorf("listing the referrers of %s: %w (pass --referrers=false to copy without them)", refName(src), err)
	}
	switch src.Transport().Name() {
	case "docker":
		if conn == nil {
			conn = dialRegistry(ctx, opts.SourceCtx, reference.TrimNamed(src.DockerReference()))
		}
		lists, _, err := referrersThrough(ctx, conn, reference.TrimNamed(src.DockerReference()), subjects)
		if err != nil {
			return nil, fail(err)
		}
		read := func(d digest.Digest) ([]byte, error) { return readVerified(ctx, source, d) }
		for _, s := range subjects {
			if c.descs[s], err = completeDescriptorsWith(lists[s].Manifests, read); err != nil {
				return nil, fail(err)
			}
		}
	case "oci":
		found, err := layoutReferrersOf(ctx, src, source)
		if err != nil {
			return nil, fail(err)
		}
		for _, s := range subjects {
			c.descs[s] = found[s]
		}
	}
	for _, s := range subjects {
		if len(c.descs[s]) > 0 {
			c.subjects = append(c.subjects, s)
		}
	}
	if len(c.subjects) == 0 {
		return nil, nil
	}
	return c, nil
}

// carriesReferrers reports whether a copy from src to dst with opts
// carries referrers (see listCarried).
func carriesReferrers(src, dst types.ImageReference, opts CopyOptions) bool {
	return !opts.SkipReferrers && holdsReferrers(src) && holdsReferrers(dst) && !sameRepository(src, dst) &&
		opts.Format == "" && opts.Compression.Format == ""
}

// dialReferrers starts connecting to src's registry when the copy
// carries referrers from it, so that the connection is made while the
// source is opened and its manifest read; nil otherwise.
func dialReferrers(ctx context.Context, src, dst types.ImageReference, opts CopyOptions) *registryConn {
	if !carriesReferrers(src, dst, opts) || src.Transport().Name() != "docker" {
		return nil
	}
	return dialRegistry(ctx, opts.SourceCtx, reference.TrimNamed(src.DockerReference()))
}

// readVerified reads the manifest d through source and checks its digest.
func readVerified(ctx context.Context, source types.ImageSource, d digest.Digest) ([]byte, error) {
	raw, _, err := source.GetManifest(ctx, &d)
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", d, err)
	}
	if got := digest.FromBytes(raw); got != d {
		return nil, fmt.Errorf("reading manifest %s: the source returned one with digest %s", d, got)
	}
	return raw, nil
}

// copyReferrers copies the referrers listCarried found from src to dst,
// after the copy wrote written there: dst is a registry, where each is
// listed by the referrers API or the subject's referrers tag, or an oci:
// layout (the staged one), where each gets an untagged index.json entry.
// The source is opened only when there is something to copy.
func copyReferrers(ctx context.Context, src, dst types.ImageReference, opts CopyOptions, refs *carried, written digest.Digest) error {
	if refs == nil {
		return nil
	}
	subjects := refs.subjects
	if written != refs.top {
		subjects = slices.DeleteFunc(slices.Clone(subjects), func(d digest.Digest) bool { return d == refs.top })
	}
	if len(subjects) == 0 {
		return nil
	}
	source, err := src.NewImageSource(ctx, opts.SourceCtx)
	if err != nil {
		return err
	}
	defer source.Close()
	target, err := referrersDestination(ctx, dst, opts.DestinationCtx)
	if err != nil {
		return err
	}
	defer target.Close()
	cache := blobinfocache.DefaultCache(opts.DestinationCtx)
	for _, s := range subjects {
		for _, d := range refs.descs[s] {
			if err := copyReferrer(ctx, source, target, cache, d, opts.ReportWriter); err != nil {
				return fmt.Errorf("copying referrer %s of %s from %s: %w", d.Digest, s, refName(src), err)
			}
			if err := listReferrer(ctx, opts.DestinationCtx, dst, source, target, s, d, opts.ReportWriter); err != nil {
				return fmt.Errorf("listing referrer %s of %s in %s: %w", d.Digest, s, refName(dst), err)
			}
		}
	}
	if dst.Transport().Name() != "oci" {
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
