package images

import (
	"context"
	"fmt"
	"slices"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"go.podman.io/common/libimage"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// ListOptions selects what List reports.
type ListOptions struct {
	// All lists every image: also intermediate images (the layer cache
	// of builds) and the untagged platform images of indexes, which are
	// hidden by default as podman images hides intermediate ones.
	All bool
	// SystemContext is used to read images; nil: the defaults.
	SystemContext *types.SystemContext
}

// Image is one image or index in local storage.
type Image struct {
	// Names are its repository:tag names, none if untagged.
	Names []string `json:"names"`
	// ID is the storage ID (podman's IMAGE ID, in full).
	ID string `json:"id"`
	// Digest is its manifest's digest.
	Digest string `json:"digest"`
	// Index is true for an index (manifest list).
	Index bool `json:"index"`
	// Platforms lists an index's entries' platforms in index order, or
	// an image's own platform.
	Platforms []string `json:"platforms"`
	// Size is an image's size in storage; for an index, the sum of its
	// platform images' sizes.
	Size int64 `json:"size"`
	// Created is when the image was built (when the index was stored).
	Created time.Time `json:"created"`
	// Intermediate is an untagged image other images build on (the
	// layer cache); Dangling an untagged image nothing uses, which
	// Prune removes.
	Intermediate bool `json:"intermediate,omitempty"`
	Dangling     bool `json:"dangling,omitempty"`
}

// List returns the images and indexes of local storage, newest first.
func List(ctx context.Context, store storage.Store, opts ListOptions) ([]Image, error) {
	rt, err := runtime(store, opts.SystemContext)
	if err != nil {
		return nil, err
	}
	all, err := rt.ListImages(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("listing images in %s: %w", store.GraphRoot(), err)
	}
	intermediate, err := idSet(ctx, rt, "intermediate=true")
	if err != nil {
		return nil, err
	}
	dangling, err := idSet(ctx, rt, "dangling=true")
	if err != nil {
		return nil, err
	}
	var out []Image
	for _, img := range all {
		row, err := describe(ctx, store, opts.SystemContext, img)
		if err != nil {
			return nil, err
		}
		row.Intermediate, row.Dangling = intermediate[row.ID], dangling[row.ID]
		if opts.All || len(row.Names) > 0 || row.Dangling {
			out = append(out, row)
		}
	}
	slices.SortStableFunc(out, func(a, b Image) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// idSet returns the IDs of the images a libimage filter selects.
func idSet(ctx context.Context, rt *libimage.Runtime, filter string) (map[string]bool, error) {
	imgs, err := rt.ListImages(ctx, &libimage.ListImagesOptions{Filters: []string{filter}})
	if err != nil {
		return nil, fmt.Errorf("listing images (%s): %w", filter, err)
	}
	set := map[string]bool{}
	for _, img := range imgs {
		set[img.ID()] = true
	}
	return set, nil
}

// describe returns img's row.
func describe(ctx context.Context, store storage.Store, sys *types.SystemContext, img *libimage.Image) (Image, error) {
	row := Image{Names: img.Names(), ID: img.ID(), Digest: img.Digest().String(), Created: img.Created()}
	if row.Names == nil {
		row.Names = []string{}
	}
	var err error
	if row.Index, err = isIndex(ctx, img); err != nil {
		return row, err
	}
	if row.Index {
		return describeIndex(store, img, row)
	}
	ref, err := is.Transport.NewStoreReference(store, nil, img.ID())
	if err != nil {
		return row, fmt.Errorf("referring to image %s: %w", img.ID(), err)
	}
	ps, err := index.Platforms(ctx, sys, ref)
	if err != nil {
		return row, fmt.Errorf("reading the platform of image %s: %w", img.ID(), err)
	}
	row.Platforms = formatPlatforms(ps)
	if row.Size, err = img.Size(); err != nil {
		return row, fmt.Errorf("computing the size of image %s: %w", img.ID(), err)
	}
	return row, nil
}

// describeIndex fills the platforms and size of an index's row.
func describeIndex(store storage.Store, img *libimage.Image, row Image) (Image, error) {
	list, err := img.ToManifestList()
	if err != nil {
		return row, fmt.Errorf("reading index %s: %w", img.ID(), err)
	}
	data, err := list.Inspect()
	if err != nil {
		return row, fmt.Errorf("reading index %s: %w", img.ID(), err)
	}
	var ps []specs.Platform
	for _, m := range data.Manifests {
		ps = append(ps, emulation.NormalizePlatform(specs.Platform{
			OS: m.Platform.OS, Architecture: m.Platform.Architecture, Variant: m.Platform.Variant,
		}))
		row.Size += instanceSize(store, m.Digest)
	}
	row.Platforms = formatPlatforms(ps)
	return row, nil
}

// instanceSize is the size of the stored image with manifest digest d, 0
// if the store has none.
func instanceSize(store storage.Store, d digest.Digest) int64 {
	imgs, err := store.ImagesByDigest(d)
	if err != nil || len(imgs) == 0 {
		return 0
	}
	size, err := store.ImageSize(imgs[0].ID)
	if err != nil {
		return 0
	}
	return size
}

// formatPlatforms spells platforms as os/arch[/variant], "unknown" for an
// entry without one; never nil, for JSON.
func formatPlatforms(ps []specs.Platform) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, emulation.FormatPlatform(p))
	}
	return out
}
