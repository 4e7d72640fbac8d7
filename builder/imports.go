package builder

import (
	"context"
	"fmt"
	"io"
	"sync"

	"go.podman.io/common/libimage"
	"go.podman.io/storage"
)

// Images read from OCI layouts and archives (FROM oci:..., --build-context
// NAME=oci-layout://...) are copied into local storage, untagged, one per
// platform. Those a later step builds on are the layer cache's parents
// and stay; the others (a context used only by COPY --from, a base whose
// stage adds nothing) would stay as <none> images nothing refers to. Once
// the build is over, the ones this build copied in and nothing uses are
// removed. (A build of another process that started meanwhile and found
// such an image in the store could lose it before building on it.)

// importSet collects the IDs of the images a build copied into storage;
// platform workers add to it concurrently.
type importSet struct {
	mu  sync.Mutex
	ids []string
}

// add records id; a nil set records nothing.
func (s *importSet) add(id string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = append(s.ids, id)
}

// dropUnused removes the recorded images that are dangling (no name, no
// image built on them, in no index), warning on w about any it cannot
// remove.
func (s *importSet) dropUnused(store storage.Store, w io.Writer) {
	if s == nil || len(s.ids) == 0 {
		return
	}
	rt, err := libimage.RuntimeFromStore(store, nil)
	if err != nil {
		return
	}
	ctx := context.Background()
	for _, id := range s.ids {
		img, _, err := rt.LookupImage(id, nil)
		if err != nil {
			continue // removed already, by the cleanup of a failed build
		}
		if dangling, err := img.IsDangling(ctx); err != nil || !dangling {
			continue
		}
		if _, err := store.DeleteImage(id, true); err != nil && w != nil {
			fmt.Fprintf(w, "warning: removing image %s, read from a layout for this build and used by nothing: %v (polyarch prune removes it)\n", id, err)
		}
	}
}
