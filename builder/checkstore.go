package builder

import (
	"errors"
	"fmt"
	"io"

	"go.podman.io/storage"
)

// CheckStore runs containers/storage's Check (CheckMost: layer digests,
// mounts and data too) on store, writes one line per problem to w, and
// returns an error if there is any.
func CheckStore(store storage.Store, w io.Writer) error {
	report, err := store.Check(storage.CheckMost())
	if err != nil {
		return fmt.Errorf("checking %s: %w", store.GraphRoot(), err)
	}
	n := 0
	for _, kind := range []struct {
		name  string
		found map[string][]error
	}{{"layer", report.Layers}, {"read-only layer", report.ROLayers}, {"image", report.Images},
		{"read-only image", report.ROImages}, {"container", report.Containers}} {
		for id, errs := range kind.found {
			fmt.Fprintf(w, "%s %s: %v\n", kind.name, id, errors.Join(errs...))
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("%s has %d damaged items: podman system check --repair removes them", store.GraphRoot(), n)
	}
	return nil
}
