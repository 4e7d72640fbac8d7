package images

import (
	"context"
	"fmt"

	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// Tag adds the names targets to the image or index source names, as
// podman tag does: a short name is in localhost/ (app:1 is
// localhost/app:1), a name without tag gets :latest, and a name another
// image held moves to this one.
func Tag(ctx context.Context, store storage.Store, sys *types.SystemContext, source string, targets []string) error {
	rt, err := runtime(store, sys)
	if err != nil {
		return err
	}
	img, err := lookup(rt, source)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if err := img.Tag(t); err != nil {
			return fmt.Errorf("tagging %s (%s) as %q: %w", source, img.ID()[:12], t, err)
		}
	}
	return nil
}
