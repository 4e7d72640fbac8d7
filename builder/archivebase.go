package builder

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage/pkg/archive"
)

// An oci-archive: base is a tar of an OCI layout. containers/image untars
// the whole archive into a temporary directory for every image source it
// opens on it: preflight's platform and label checks and every platform's
// import each paid for one (9-14 % of a 3-platform build's CPU). polyarch
// untars each archive once per build, into the build's working directory
// (removed on every exit path, signals included), and reads it as an oci:
// layout from there.

// archiveDirs maps the archives a build read to their unpacked layouts.
type archiveDirs struct {
	parent string
	mu     sync.Mutex
	dirs   map[string]string
}

// newArchiveDirs returns an empty set of unpacked archives under parent.
func newArchiveDirs(parent string) *archiveDirs {
	return &archiveDirs{parent: parent, dirs: map[string]string{}}
}

// reference returns an oci: reference to image in the archive at path,
// untarring the archive on first use. Concurrent callers for one archive
// wait for the same untar.
func (a *archiveDirs) reference(path, image string) (types.ImageReference, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	dir, ok := a.dirs[path]
	if !ok {
		var err error
		if dir, err = unpackArchive(a.parent, path); err != nil {
			return nil, err
		}
		a.dirs[path] = dir
	}
	return layout.NewReference(dir, image)
}

// unpackArchive untars the OCI archive at path into a new directory under
// parent and returns that directory.
func unpackArchive(parent, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("opening OCI archive %s: %w", path, err)
	}
	defer f.Close()
	dir, err := os.MkdirTemp(parent, "oci-archive-")
	if err != nil {
		return "", fmt.Errorf("unpacking OCI archive %s: %w (set TMPDIR to a writable directory)", path, err)
	}
	if err := archive.NewDefaultArchiver().Untar(f, dir, &archive.TarOptions{NoLchown: true}); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("unpacking OCI archive %s into %s: %w", path, filepath.Dir(dir), err)
	}
	return dir, nil
}
