package images

import (
	"context"
	"fmt"

	"go.podman.io/common/libimage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// runtime wraps store in a libimage runtime; it never shuts the store down
// (the caller that opened it does).
func runtime(store storage.Store, sys *types.SystemContext) (*libimage.Runtime, error) {
	rt, err := libimage.RuntimeFromStore(store, &libimage.RuntimeOptions{SystemContext: sys})
	if err != nil {
		return nil, fmt.Errorf("opening local storage at %s for image management: %w", store.GraphRoot(), err)
	}
	return rt, nil
}

// lookup finds name (a name, an ID or an ID prefix, a digest) in local
// storage; a name of an index gives the index itself, never one of its
// platform images.
func lookup(rt *libimage.Runtime, name string) (*libimage.Image, error) {
	img, _, err := rt.LookupImage(name, &libimage.LookupImageOptions{ManifestList: true})
	if err != nil {
		return nil, fmt.Errorf("looking up %q in local storage: %w (see polyarch images)", name, err)
	}
	return img, nil
}

// isIndex says whether img is a manifest list (an index).
func isIndex(ctx context.Context, img *libimage.Image) (bool, error) {
	ok, err := img.IsManifestList(ctx)
	if err != nil {
		return false, fmt.Errorf("reading image %s in local storage: %w", img.ID(), err)
	}
	return ok, nil
}
