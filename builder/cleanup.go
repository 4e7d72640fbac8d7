package builder

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"go.podman.io/storage"
	"go.podman.io/storage/pkg/lockfile"
)

// A build that fails, above all for want of space, can leave in the store
// what buildah could not remove: its working containers, the layers of a
// half-pulled base or of a step, and layer directories the store has no
// record of (their record could not be written). Nothing reclaims them, so
// the next build on a small disk fails too. After a failed or interrupted
// build polyarch removes what that build added and left incomplete, and
// what containers/storage's Check reports as unaccounted, so the store
// passes Check again. Complete images (the layer cache) are kept.
//
// The store is shared: another process may be writing to it. What this
// build added is told apart by creation time and by not having existed
// before; a build of another process started meanwhile on the same store
// could lose its half-pulled layers. Unaccounted layer directories
// belong to nobody.

// storeSnapshot is what a store held when a build started.
type storeSnapshot struct {
	start      time.Time
	containers map[string]bool
}

// snapshotStore records the store's containers before a build.
func snapshotStore(store storage.Store) (*storeSnapshot, error) {
	cs, err := store.Containers()
	if err != nil {
		return nil, fmt.Errorf("listing containers in %s: %w", store.GraphRoot(), err)
	}
	snap := &storeSnapshot{start: time.Now(), containers: map[string]bool{}}
	for _, c := range cs {
		snap.containers[c.ID] = true
	}
	return snap, nil
}

// removePasses bounds the passes of removeIncomplete: on a full disk the
// first pass frees space (a layer's files go before its record) but may
// fail to write the store's records, which the next pass then can.
const removePasses = 3

// removeIncomplete removes what a failed build left behind: containers it
// created, layers it created that no image or container uses, and what
// Check reports as unaccounted or damaged since the build started. It
// reports what it removed to warn and returns what it could not remove.
func removeIncomplete(store storage.Store, snap *storeSnapshot, warn io.Writer) error {
	var err error
	total := 0
	for pass := 0; pass < removePasses; pass++ {
		var n int
		n, err = removeOnce(store, snap)
		total += n
		if err == nil {
			break
		}
		if rerr := reloadRecords(store); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	if total > 0 && warn != nil {
		fmt.Fprintf(warn, "removed %d incomplete containers, layers and images the failed build left in %s\n", total, store.GraphRoot())
	}
	return err
}

// removeOnce is one pass of removeIncomplete; it returns how many items
// it removed.
func removeOnce(store storage.Store, snap *storeSnapshot) (int, error) {
	var errs []error
	removed := 0
	cs, err := store.Containers()
	if err != nil {
		return 0, fmt.Errorf("listing containers in %s: %w", store.GraphRoot(), err)
	}
	for _, c := range cs {
		if snap.containers[c.ID] || c.Created.Before(snap.start) {
			continue
		}
		if err := store.DeleteContainer(c.ID); err != nil && !errors.Is(err, storage.ErrContainerUnknown) {
			errs = append(errs, fmt.Errorf("removing build container %s: %w", c.ID, err))
			continue
		}
		removed++
	}
	n, err := removeUnusedLayers(store, snap.start)
	removed += n
	errs = append(errs, err)
	n, err = repairSince(store, snap.start)
	removed += n
	errs = append(errs, err)
	return removed, errors.Join(errs...)
}

// removeUnusedLayers deletes the layers created since start that no
// image or container uses, children first.
func removeUnusedLayers(store storage.Store, start time.Time) (int, error) {
	layers, err := store.Layers()
	if err != nil {
		return 0, fmt.Errorf("listing layers in %s: %w", store.GraphRoot(), err)
	}
	used, err := usedLayers(store)
	if err != nil {
		return 0, err
	}
	var errs []error
	removed := 0
	for _, l := range childrenFirst(layers) {
		if used[l.ID] || l.Created.Before(start) {
			continue
		}
		if err := store.DeleteLayer(l.ID); err != nil && !errors.Is(err, storage.ErrLayerUnknown) {
			errs = append(errs, fmt.Errorf("removing incomplete layer %s: %w", l.ID, err))
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// usedLayers returns the layers that images and containers stand on,
// parents included.
func usedLayers(store storage.Store) (map[string]bool, error) {
	layers, err := store.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers in %s: %w", store.GraphRoot(), err)
	}
	parent := map[string]string{}
	for _, l := range layers {
		parent[l.ID] = l.Parent
	}
	used := map[string]bool{}
	mark := func(id string) {
		for ; id != "" && !used[id]; id = parent[id] {
			used[id] = true
		}
	}
	images, err := store.Images()
	if err != nil {
		return nil, fmt.Errorf("listing images in %s: %w", store.GraphRoot(), err)
	}
	for _, img := range images {
		mark(img.TopLayer)
		for _, id := range img.MappedTopLayers {
			mark(id)
		}
	}
	cs, err := store.Containers()
	if err != nil {
		return nil, fmt.Errorf("listing containers in %s: %w", store.GraphRoot(), err)
	}
	for _, c := range cs {
		mark(c.LayerID)
	}
	return used, nil
}

// childrenFirst orders layers so that each comes before its parent.
func childrenFirst(layers []storage.Layer) []storage.Layer {
	depth := map[string]int{}
	parent := map[string]string{}
	for _, l := range layers {
		parent[l.ID] = l.Parent
	}
	for _, l := range layers {
		for id := l.ID; parent[id] != "" && depth[l.ID] <= len(layers); id = parent[id] {
			depth[l.ID]++ // bounded: damaged records could hold a cycle
		}
	}
	out := slices.Clone(layers)
	slices.SortStableFunc(out, func(a, b storage.Layer) int { return depth[b.ID] - depth[a.ID] })
	return out
}

// repairSince runs Check and repairs, through Repair, the layer
// directories the store has no record of and the layers and images
// damaged since start; damage older than the build is left to the user
// (podman system check --repair).
func repairSince(store storage.Store, start time.Time) (int, error) {
	report, err := store.Check(&storage.CheckOptions{})
	if err != nil {
		return 0, fmt.Errorf("checking %s: %w", store.GraphRoot(), err)
	}
	created, err := creationTimes(store)
	if err != nil {
		return 0, err
	}
	recent := func(id string) bool { t, ok := created[id]; return !ok || !t.Before(start) }
	mine := report
	mine.Layers, mine.Images, mine.Containers = map[string][]error{}, map[string][]error{}, nil
	mine.ROLayers, mine.ROImages = nil, nil
	for id, errs := range report.Layers {
		if recent(id) || slices.ContainsFunc(errs, func(e error) bool { return errors.Is(e, storage.ErrLayerUnaccounted) }) {
			mine.Layers[id] = errs
		}
	}
	for id, errs := range report.Images {
		if recent(id) {
			mine.Images[id] = errs
		}
	}
	if len(mine.Layers)+len(mine.Images) == 0 {
		return 0, nil
	}
	errs := store.Repair(mine, &storage.RepairOptions{})
	return len(mine.Layers) + len(mine.Images) - len(errs), errors.Join(errs...)
}

// creationTimes maps the ID of every layer and image to its creation time.
func creationTimes(store storage.Store) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	layers, err := store.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers in %s: %w", store.GraphRoot(), err)
	}
	for _, l := range layers {
		out[l.ID] = l.Created
	}
	images, err := store.Images()
	if err != nil {
		return nil, fmt.Errorf("listing images in %s: %w", store.GraphRoot(), err)
	}
	for _, img := range images {
		out[img.ID] = img.Created
	}
	return out, nil
}

// prepareStore removes the layer directories the store has no record of
// (left by a build that could not finish, even a killed one) and records
// what the store holds before the build.
func prepareStore(store storage.Store, warn io.Writer) (*storeSnapshot, error) {
	snap, err := snapshotStore(store)
	if err != nil {
		return nil, err
	}
	if n, err := repairSince(store, snap.start); err != nil && warn != nil {
		fmt.Fprintf(warn, "WARNING: repairing %s: %v\n", store.GraphRoot(), err)
	} else if n > 0 && warn != nil {
		fmt.Fprintf(warn, "removed %d layer directories %s had no record of\n", n, store.GraphRoot())
	}
	return snap, nil
}

// afterFailure explains a failed build (explain, then a full disk, named
// before the space is reclaimed) and removes what it left incomplete.
func afterFailure(err error, o *Options, store storage.Store, snap *storeSnapshot, places []spacePlace, explain func(error) error) error {
	err = explainNoSpace(explain(err), places)
	if cerr := removeIncomplete(store, snap, o.Stderr); cerr != nil {
		return fmt.Errorf("%w\nremoving what the failed build left in %s: %v (run podman system check --repair)", err, store.GraphRoot(), cerr)
	}
	return err
}

// reloadRecords makes this process read the store's records again. A
// record that could not be saved (no space) is gone from memory but not
// from disk; marking the record files as written by someone else makes
// storage reload them, as it does after another process's change.
func reloadRecords(store storage.Store) error {
	prefix := store.GraphDriverName() + "-"
	for _, kind := range []string{"layers", "images", "containers"} {
		path := filepath.Join(store.GraphRoot(), prefix+kind, kind+".lock")
		lf, err := lockfile.GetLockFile(path)
		if err != nil {
			return fmt.Errorf("reloading the %s of %s: %w", kind, store.GraphRoot(), err)
		}
		lf.Lock()
		_, err = lf.RecordWrite()
		lf.Unlock()
		if err != nil {
			return fmt.Errorf("reloading the %s of %s: %w", kind, store.GraphRoot(), err)
		}
	}
	return nil
}
