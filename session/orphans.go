package session

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"go.podman.io/storage"
)

// containerIDPattern is what containers/storage names a container's
// directories: its 64-hex-digit ID.
var containerIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// RemoveOrphanContainerDirs removes the container directories of store,
// GRAPHROOT/DRIVER-containers/ID and RUNROOT/DRIVER-containers/ID, whose
// container has no record: a process killed inside containers/storage's
// DeleteContainer (after the record went, before the directories did)
// leaves them, and nothing else ever removes them. It returns the paths
// removed. Each ID is looked up again just before its removal, so a
// container another process is creating is left alone.
func RemoveOrphanContainerDirs(store storage.Store) ([]string, error) {
	cs, err := store.Containers()
	if err != nil {
		return nil, fmt.Errorf("listing containers in %s: %w", store.GraphRoot(), err)
	}
	known := map[string]bool{}
	for _, c := range cs {
		known[c.ID] = true
	}
	removed := []string{}
	middle := store.GraphDriverName() + "-containers"
	for _, dir := range []string{filepath.Join(store.GraphRoot(), middle), filepath.Join(store.RunRoot(), middle)} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue // no such directory yet: nothing left over
		}
		for _, e := range entries {
			id := e.Name()
			if !e.IsDir() || !containerIDPattern.MatchString(id) || known[id] {
				continue
			}
			if _, err := store.Container(id); err == nil {
				continue // created meanwhile
			}
			path := filepath.Join(dir, id)
			if err := os.RemoveAll(path); err != nil {
				return removed, fmt.Errorf("removing the directory %s of a container with no record: %w", path, err)
			}
			removed = append(removed, path)
		}
	}
	return removed, nil
}
