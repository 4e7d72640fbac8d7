package images

import (
	"context"
	"errors"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/common/libimage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// RemoveOptions controls Remove.
type RemoveOptions struct {
	// All also removes the platform images of each index removed, except
	// those another name holds: a name of their own, another index, or
	// images built on them.
	All bool
	// Force is podman rmi's --force: containers using a removed image
	// are removed too, and an image named by ID with several names goes.
	Force bool
	// SystemContext is used to read images; nil: the defaults.
	SystemContext *types.SystemContext
}

// Removed says what Remove did to one image.
type Removed struct {
	// ID is the image's ID.
	ID string `json:"id"`
	// Untagged are the names taken away.
	Untagged []string `json:"untagged,omitempty"`
	// Removed is true when the image itself went (not only a name).
	Removed bool `json:"removed"`
}

// Remove removes the images and indexes names give, as podman rmi does (a
// name of an image that has others is only untagged; untagged parents
// nothing else uses go too); an index name removes the index, and with
// opts.All its platform images no other name holds. It goes on past an
// image it cannot remove and returns every error.
func Remove(ctx context.Context, store storage.Store, names []string, opts RemoveOptions) ([]Removed, error) {
	rt, err := runtime(store, opts.SystemContext)
	if err != nil {
		return nil, err
	}
	var out []Removed
	var errs []error
	for _, name := range names {
		got, err := removeOne(ctx, rt, name, opts)
		out = append(out, got...)
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// removeOne removes one name's image or index.
func removeOne(ctx context.Context, rt *libimage.Runtime, name string, opts RemoveOptions) ([]Removed, error) {
	img, err := lookup(rt, name)
	if err != nil {
		return nil, err
	}
	idx, err := isIndex(ctx, img)
	if err != nil {
		return nil, err
	}
	var children []digest.Digest
	if idx && opts.All {
		if children, err = instances(img); err != nil {
			return nil, err
		}
	}
	out, err := rmi(ctx, rt, []string{name}, idx, opts.Force)
	if err != nil || len(children) == 0 || !removedID(out, img.ID()) {
		return out, err
	}
	more, err := removeUnheld(ctx, rt, children, opts.Force)
	return append(out, more...), err
}

// rmi runs libimage's removal (podman rmi's) on names; asIndex removes
// an index itself rather than its instance for this machine.
func rmi(ctx context.Context, rt *libimage.Runtime, names []string, asIndex, force bool) ([]Removed, error) {
	reports, errs := rt.RemoveImages(ctx, names, &libimage.RemoveImagesOptions{Force: force, LookupManifest: asIndex})
	var out []Removed
	for _, r := range reports {
		out = append(out, Removed{ID: r.ID, Untagged: r.Untagged, Removed: r.Removed})
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("removing %v from local storage: %w", names, err)
	}
	return out, nil
}

// instances returns the manifest digests an index lists.
func instances(img *libimage.Image) ([]digest.Digest, error) {
	list, err := img.ToManifestList()
	if err != nil {
		return nil, fmt.Errorf("reading index %s: %w", img.ID(), err)
	}
	data, err := list.Inspect()
	if err != nil {
		return nil, fmt.Errorf("reading index %s: %w", img.ID(), err)
	}
	var out []digest.Digest
	for _, m := range data.Manifests {
		out = append(out, m.Digest)
	}
	return out, nil
}

// removeUnheld removes the stored images with the given manifest digests
// that are dangling now their index is gone: no name, no image built on
// them, in no other index.
func removeUnheld(ctx context.Context, rt *libimage.Runtime, digests []digest.Digest, force bool) ([]Removed, error) {
	var ids []string
	for _, d := range digests {
		img, err := byDigest(ctx, rt, d)
		if err != nil || img == nil {
			continue
		}
		if dangling, err := img.IsDangling(ctx); err == nil && dangling {
			ids = append(ids, img.ID())
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return rmi(ctx, rt, ids, false, force)
}

// byDigest returns the stored image whose manifest digest is d, nil if none.
func byDigest(ctx context.Context, rt *libimage.Runtime, d digest.Digest) (*libimage.Image, error) {
	imgs, err := rt.ListImages(ctx, &libimage.ListImagesOptions{Filters: []string{"digest=" + d.String()}})
	if err != nil || len(imgs) == 0 {
		return nil, err
	}
	return imgs[0], nil
}

// removedID says whether the reports show image id removed (not only
// untagged: an index with other names stays).
func removedID(rs []Removed, id string) bool {
	for _, r := range rs {
		if r.ID == id && r.Removed {
			return true
		}
	}
	return false
}
