package builder

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/polyarch/polyarch/session"
	"go.podman.io/buildah"
	"go.podman.io/storage"
)

// buildContainerSuffix ends the name of every working container a
// polyarch build makes (buildah's default is "working-container"), so
// that what a killed polyarch build left is told apart from the working
// containers of buildah from, which are meant to last.
const buildContainerSuffix = "polyarch-build"

// removeDeadBuilds removes, at the start of a build that holds the build
// lock exclusively (no other polyarch build or prune runs on the store),
// what killed polyarch builds left: their working containers (with their
// layers), the directories of containers with no record and the run
// directories (temporary files, buildah's overlay over the build context)
// of dead builds. Incomplete layers are then removed by prepareStore.
// Failures are warnings: the build goes on, and polyarch prune removes
// what is left.
func removeDeadBuilds(store storage.Store, warn io.Writer) {
	n, err := removeDeadContainers(store)
	dirs, derr := session.RemoveOrphanContainerDirs(store)
	n += len(dirs)
	runDirs, rerr := session.RemoveDeadRunDirs()
	n += len(runDirs)
	derr = errors.Join(derr, rerr)
	if warn == nil {
		return
	}
	if err = errors.Join(err, derr); err != nil {
		fmt.Fprintf(warn, "WARNING: removing what killed builds left in %s: %v (run polyarch prune)\n", store.GraphRoot(), err)
	}
	if n > 0 {
		fmt.Fprintf(warn, "removed %d containers, container and run directories that killed builds left in %s\n", n, store.GraphRoot())
	}
}

// removeDeadContainers deletes the working containers of polyarch
// builds, named *-polyarch-build; only called while no build runs.
func removeDeadContainers(store storage.Store) (int, error) {
	builders, err := buildah.OpenAllBuilders(store)
	if err != nil {
		return 0, fmt.Errorf("listing build containers: %w", err)
	}
	n := 0
	for _, b := range builders {
		if !strings.HasSuffix(b.Container, "-"+buildContainerSuffix) {
			continue
		}
		if err := b.Delete(); err != nil {
			return n, fmt.Errorf("removing build container %s (%s): %w", b.Container, b.ContainerID, err)
		}
		n++
	}
	return n, nil
}
