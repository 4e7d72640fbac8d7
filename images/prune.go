package images

import (
	"context"
	"errors"
	"fmt"

	"github.com/polyarch/polyarch/session"
	"go.podman.io/buildah"
	"go.podman.io/common/libimage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// PruneOptions controls Prune.
type PruneOptions struct {
	// All removes every image no container uses, tagged ones included,
	// as podman image prune --all does; by default only dangling images
	// (untagged, nothing built on them, in no index) go.
	All bool
	// SystemContext is used to read images; nil: the defaults.
	SystemContext *types.SystemContext
}

// PruneReport says what Prune removed.
type PruneReport struct {
	// Containers are the build containers removed (buildah's working
	// containers that a killed build left behind).
	Containers []string `json:"containers"`
	// Images are the images and indexes removed or untagged.
	Images []Removed `json:"images"`
	// Size is the space the removed images took, in bytes.
	Size int64 `json:"size"`
	// Repaired are the layers and images containers/storage's Check
	// found damaged or incomplete, which were removed.
	Repaired []string `json:"repaired"`
	// OrphanDirs are the container directories, in the graph root or the
	// run root, of containers with no record, which were removed (see
	// session.RemoveOrphanContainerDirs).
	OrphanDirs []string `json:"orphanDirs"`
	// RunDirs are the temporary directories of dead polyarch builds
	// (with buildah's overlay over their build context), unmounted and
	// removed (see session.RemoveDeadRunDirs).
	RunDirs []string `json:"runDirs"`
	// BuildKeys is how many whole-build cache keys naming removed images
	// were removed (see session.RemoveStaleBuildKeys).
	BuildKeys int `json:"buildKeys"`
}

// Prune removes, in this order, the working containers of buildah (and so
// of polyarch) builds, the directories of containers that have no record
// (a build killed while its container was being removed), the dangling images (every unused image with
// opts.All), repeating while removing one leaves another dangling, and
// what containers/storage's Check reports as damaged (incomplete layers
// and the images on them), as podman system check --repair does. Until
// a build has tagged its result, its containers and platform images look
// like leftovers: polyarch builds hold a lock (session.LockStoreForBuild)
// that makes Prune fail meanwhile; a buildah or podman build running on
// the store would lose them.
func Prune(ctx context.Context, store storage.Store, opts PruneOptions) (*PruneReport, error) {
	rep := &PruneReport{Containers: []string{}, Images: []Removed{}, Repaired: []string{}, OrphanDirs: []string{}, RunDirs: []string{}}
	unlock, err := session.LockStoreForPrune(store.RunRoot())
	if errors.Is(err, session.ErrStoreBusy) {
		return rep, fmt.Errorf("%w (%s): its images and containers are not complete yet; run polyarch prune when it ends", err, store.GraphRoot())
	}
	if err != nil {
		return rep, err
	}
	defer unlock()
	if rep.Containers, err = removeBuildContainers(store); err != nil {
		return rep, err
	}
	if rep.OrphanDirs, err = session.RemoveOrphanContainerDirs(store); err != nil {
		return rep, err
	}
	if rep.RunDirs, err = session.RemoveDeadRunDirs(); err != nil {
		return rep, err
	}
	if err := pruneImages(ctx, store, opts, rep); err != nil {
		return rep, err
	}
	if rep.Repaired, err = repair(store); err != nil {
		return rep, err
	}
	rep.BuildKeys, err = session.RemoveStaleBuildKeys(store)
	return rep, err
}

// removeBuildContainers removes every buildah working container of store.
func removeBuildContainers(store storage.Store) ([]string, error) {
	builders, err := buildah.OpenAllBuilders(store)
	if err != nil {
		return nil, fmt.Errorf("listing build containers in %s: %w", store.GraphRoot(), err)
	}
	out := []string{}
	for _, b := range builders {
		id := b.ContainerID
		if err := b.Delete(); err != nil {
			return out, fmt.Errorf("removing build container %s (%s): %w", b.Container, id, err)
		}
		out = append(out, id)
	}
	return out, nil
}

// pruneImages removes dangling (with opts.All, unused) images until none
// is left, as podman image prune does (a pass that finds only images
// seen before ends it).
func pruneImages(ctx context.Context, store storage.Store, opts PruneOptions, rep *PruneReport) error {
	rt, err := runtime(store, opts.SystemContext)
	if err != nil {
		return err
	}
	filter := "dangling=true"
	if opts.All {
		filter = "containers=false"
	}
	seen := map[string]bool{}
	for {
		reports, errs := rt.RemoveImages(ctx, nil, &libimage.RemoveImagesOptions{Filters: []string{filter}, WithSize: true})
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("pruning images in %s: %w", store.GraphRoot(), err)
		}
		fresh := false
		for _, r := range reports {
			fresh = fresh || !seen[r.ID]
			seen[r.ID] = true
		}
		if !fresh {
			return nil
		}
		for _, r := range reports {
			rep.Images = append(rep.Images, Removed{ID: r.ID, Untagged: r.Untagged, Removed: r.Removed})
			rep.Size += r.Size
		}
	}
}

// repair runs containers/storage's Check and removes the damaged layers
// and images it reports, as podman system check --repair does (damaged
// containers are left: their owner decides).
func repair(store storage.Store) ([]string, error) {
	report, err := store.Check(storage.CheckMost())
	if err != nil {
		return nil, fmt.Errorf("checking %s: %w", store.GraphRoot(), err)
	}
	out := []string{}
	for _, found := range []map[string][]error{report.Layers, report.Images} {
		for id := range found {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return out, nil
	}
	if errs := store.Repair(report, &storage.RepairOptions{RemoveContainers: false}); len(errs) > 0 {
		return out, fmt.Errorf("repairing %s: %w (podman system check --repair --force also removes damaged containers)", store.GraphRoot(), errors.Join(errs...))
	}
	return out, nil
}
