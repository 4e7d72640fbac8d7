package index

import (
	"context"
	"fmt"
	"os"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	cp "go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker/reference"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
)

// Local storage keeps an index as a manifest list whose entries are
// separate images (podman's model), which containers/image cannot copy
// in one go: indexes going in or out of local storage take these paths.

// isStorage reports whether ref is a containers-storage reference.
func isStorage(ref types.ImageReference) bool {
	return ref.Transport().Name() == is.Transport.Name()
}

// copyFromStoredList stages the index src holds in local storage, in its
// own format (see listFormat), next to the store, with every entry it lists (libimage reads
// each from wherever it was added from), then copies that layout to dst
// by the ordinary path, platform selection included.
func copyFromStoredList(ctx context.Context, copyImage policyCopier, src, dst types.ImageReference, opts CopyOptions) (digest.Digest, error) {
	// The entries are read from where they were added from: with the
	// source side's settings (--src-creds, --src-tls-verify...).
	sys, err := opts.Compression.apply(opts.SourceCtx, false)
	if err != nil {
		return "", err
	}
	staged, cleanup, err := stageStoredList(ctx, src, sys)
	if err != nil {
		return "", err
	}
	defer cleanup()
	plan, err := planCopy(ctx, staged, opts)
	if err != nil {
		return "", err
	}
	staged, closeUnused := handOff(staged, plan)
	defer closeUnused()
	return route(ctx, copyImage, staged, dst, opts, plan)
}

// stageStoredList copies the index src holds in local storage, with every
// entry it lists, to an OCI layout in a directory next to the store, and
// returns a reference to it and what removes it.
func stageStoredList(ctx context.Context, src types.ImageReference, sys *types.SystemContext) (types.ImageReference, func(), error) {
	store := is.Transport.GetStoreIfSet()
	if store == nil {
		return nil, nil, fmt.Errorf("copying index %s: local storage is not open: open it with session.OpenStore first", src.StringWithinTransport())
	}
	img, err := is.Transport.GetImage(src)
	if err != nil {
		return nil, nil, fmt.Errorf("locating index %s in local storage: %w", src.StringWithinTransport(), err)
	}
	tmp, err := os.MkdirTemp(store.GraphRoot(), "polyarch-copy-")
	if err != nil {
		return nil, nil, fmt.Errorf("creating a staging directory for index %s: %w", img.ID, err)
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	staged, err := stageStoredAs(ctx, store, sys, img.ID, tmp)
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("staging index %s: %w", img.ID, err)
	}
	return staged, cleanup, nil
}

// copyIntoStorage copies each chosen platform image of the index src into
// the local storage of dst as its own image, then stores a new index of
// them under dst's name, as a build does (Assemble, then Tag): podman
// sees it as a manifest list. The index is serialised anew, so its digest
// may differ from the source's.
func copyIntoStorage(ctx context.Context, copyImage policyCopier, src, dst types.ImageReference, opts CopyOptions, plan *copyPlan) (digest.Digest, error) {
	store := is.Transport.GetStoreIfSet()
	named := dst.DockerReference()
	if store == nil || named == nil {
		return "", fmt.Errorf("copying an index into local storage needs a name: use containers-storage:NAME")
	}
	chosen := plan.chosen
	if chosen == nil {
		chosen = plan.offered
	}
	var insts []Instance
	for i, p := range chosen {
		tmp := fmt.Sprintf("localhost/polyarch-copy-%d:%d", os.Getpid(), i)
		id, err := copyPlatformInto(ctx, copyImage, src, tmp, p, opts)
		if err != nil {
			return "", fmt.Errorf("copying %s image: %w", emulation.FormatPlatform(p), err)
		}
		defer func() { _ = store.RemoveNames(id, []string{tmp}) }()
		insts = append(insts, Instance{ImageID: id, Platform: p})
	}
	a, err := Assemble(ctx, store, opts.DestinationCtx, insts)
	if err != nil {
		return "", err
	}
	return a.Digest, Tag(store, a.ID, []string{reference.TagNameOnly(named).String()})
}

// policyCopier copies one image; cp.Image with a fixed policy.
type policyCopier func(ctx context.Context, dst, src types.ImageReference, o *cp.Options) ([]byte, error)

// copyPlatformInto copies the p image of the index src into local
// storage under the name tmp and returns its image ID.
func copyPlatformInto(ctx context.Context, copyImage policyCopier, src types.ImageReference, tmp string, p specs.Platform, opts CopyOptions) (string, error) {
	store := is.Transport.GetStoreIfSet()
	dst, err := is.Transport.ParseStoreReference(store, tmp)
	if err != nil {
		return "", err
	}
	sys := types.SystemContext{}
	if opts.SourceCtx != nil {
		sys = *opts.SourceCtx
	}
	sys.OSChoice, sys.ArchitectureChoice, sys.VariantChoice = p.OS, p.Architecture, p.Variant
	if _, err := copyImage(ctx, dst, src, &cp.Options{SourceCtx: &sys, DestinationCtx: opts.DestinationCtx, ReportWriter: opts.ReportWriter}); err != nil {
		return "", err
	}
	img, err := store.Image(tmp)
	if err != nil {
		return "", err
	}
	return img.ID, nil
}
