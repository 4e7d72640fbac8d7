package builder

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"go.podman.io/storage"
	"golang.org/x/sys/unix"
)

// A full disk shows up in many shapes: a wrapped ENOSPC, its text in an
// error buildah formatted with %v, or only "exit status 1" when a RUN
// step filled the store. polyarch names the place that is full and
// whether it is the store or TMPDIR.

// spacePlace is a directory a build writes to, and what it is.
type spacePlace struct {
	Path, Kind string
}

// errNoSpace is the error a full disk is reported as.
var errNoSpace = errors.New("no space left on device")

// spacePlaces lists where a build writes: the store and the temporary
// directories.
func spacePlaces(store storage.Store, work string) []spacePlace {
	places := []spacePlace{{store.GraphRoot(), "store"}, {store.RunRoot(), "store"}}
	for _, dir := range []string{work, os.TempDir(), "/var/tmp"} {
		if dir != "" {
			places = append(places, spacePlace{dir, "TMPDIR"})
		}
	}
	return places
}

// noSpacePath finds the path in "write PATH: no space left on device".
var noSpacePath = regexp.MustCompile(`(/[^\s:"]+)"?: no space left on device`)

// explainNoSpace returns err with "no space left on device at PATH
// (store|TMPDIR)" and the next step, when err says so or a place the
// build writes to is full; otherwise err unchanged.
func explainNoSpace(err error, places []spacePlace) error {
	if err == nil {
		return nil
	}
	said := errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), errNoSpace.Error())
	if said {
		if m := noSpacePath.FindStringSubmatch(err.Error()); m != nil {
			if p, ok := placeOf(m[1], places); ok {
				return noSpaceError(err, p)
			}
		}
	}
	for _, p := range places {
		if full(p.Path) {
			return noSpaceError(err, p)
		}
	}
	return err
}

// noSpaceError formats the report for a full place.
func noSpaceError(err error, p spacePlace) error {
	next := "free space there, or move the store with --root (or storage.conf's graphroot)"
	if p.Kind == "TMPDIR" {
		next = "free space there, or point TMPDIR at a larger file system"
	}
	return fmt.Errorf("%w at %s (%s): %s\n%v", errNoSpace, p.Path, p.Kind, next, err)
}

// placeOf returns the place that holds path.
func placeOf(path string, places []spacePlace) (spacePlace, bool) {
	for _, p := range places {
		if rel, err := filepath.Rel(p.Path, path); err == nil && !strings.HasPrefix(rel, "..") {
			return p, true
		}
	}
	return spacePlace{}, false
}

// full reports whether the file system of dir has (almost) no room left
// for an unprivileged writer: under 64 KiB or no free inodes.
func full(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Bavail*uint64(st.Bsize) < 64<<10 || (st.Files > 0 && st.Ffree == 0)
}
