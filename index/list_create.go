package index

import (
	"context"
	"errors"
	"fmt"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/common/libimage/manifests"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// AddOptions configures Add and the sources of Create.
type AddOptions struct {
	// Platforms picks entries of sources that are indexes; default: every
	// entry with a runnable platform (attestations are skipped). A
	// single-image source always contributes its one platform. Each
	// platform must be found in some source.
	Platforms []specs.Platform
	// Replace lets a later source's platform replace an earlier one's,
	// including an entry already in the index. Default: two entries for
	// one platform are an error naming both sources.
	Replace bool
}

// CreateOptions configures Create.
type CreateOptions struct {
	AddOptions
	// Amend adds to the index if it already exists. Default: an existing
	// name is an error.
	Amend bool
}

// Create stores in local storage a new index named name holding, in
// argument order, the platform image of each single-image source and the
// entries of each index source (see AddOptions.Platforms). Each entry's
// platform is exactly its image config's (os, architecture, variant,
// os.version, os.features), as podman manifest add records it; platforms
// are matched normalised (linux/arm64/v8 is linux/arm64). Only
// manifests and configs are read; blobs are copied from the sources when
// the index is pushed. The name is given to the index last, so a failure
// leaves it as it was.
func Create(ctx context.Context, store storage.Store, sys *types.SystemContext, name string, srcs []types.ImageReference, opts CreateOptions) (*List, error) {
	canonical, err := NormalizeName(name)
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		return nil, fmt.Errorf("creating index %s: no source image given", canonical)
	}
	if _, err := store.Image(canonical); err == nil {
		if opts.Amend {
			return Add(ctx, store, sys, canonical, srcs, opts.AddOptions)
		}
		return nil, fmt.Errorf("%s already exists in local storage: pass --amend to add to it, or pick another name", canonical)
	} else if !errors.Is(err, storage.ErrImageUnknown) {
		return nil, fmt.Errorf("looking up %s in local storage: %w", canonical, err)
	}
	list := manifests.Create()
	if err := addSources(ctx, sys, store, list, "", srcs, opts.AddOptions); err != nil {
		return nil, fmt.Errorf("creating index %s: %w", canonical, err)
	}
	id, err := commit(store, list, nil, []string{canonical})
	if err != nil {
		return nil, err
	}
	return (&stored{name: canonical, image: &storage.Image{ID: id}, list: list}).summary()
}

// Add adds the sources' platform images to the stored index name, after
// its current entries and in argument order, as Create does.
func Add(ctx context.Context, store storage.Store, sys *types.SystemContext, name string, srcs []types.ImageReference, opts AddOptions) (*List, error) {
	if len(srcs) == 0 {
		return nil, fmt.Errorf("adding to index %s: no source image given", name)
	}
	return edit(store, name, func(s *stored) error {
		if err := addSources(ctx, sys, store, s.list, s.label(), srcs, opts); err != nil {
			return fmt.Errorf("adding to index %s: %w", s.label(), err)
		}
		return nil
	})
}

// addSources adds the entries planned from srcs to list, which is called
// listName in messages when it already has entries.
func addSources(ctx context.Context, sys *types.SystemContext, store storage.Store, list manifests.List, listName string, srcs []types.ImageReference, opts AddOptions) error {
	var cands []candidate
	for _, ref := range srcs {
		c, err := describe(ctx, sys, store, ref)
		if err != nil {
			return err
		}
		cands = append(cands, c...)
	}
	cands, err := pick(cands, opts.Platforms)
	if err != nil {
		return err
	}
	losers, cands, err := resolveDuplicates(existing(list, listName), cands, opts.Replace)
	if err != nil {
		return err
	}
	for _, d := range losers {
		if err := list.Remove(d); err != nil {
			return fmt.Errorf("replacing entry %s: %w", d, err)
		}
	}
	for _, c := range cands {
		if err := c.addTo(ctx, sys, list); err != nil {
			return err
		}
	}
	return nil
}
