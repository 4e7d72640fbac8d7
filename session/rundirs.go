package session

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.podman.io/common/pkg/config"
	"go.podman.io/storage/pkg/mount"
	"golang.org/x/sys/unix"
)

// runDirPrefix starts the name of the temporary directory every polyarch
// build makes in the temporary directory buildah uses; the build makes
// its own temporary files and buildah's (buildah-context-*, the overlay
// over the build context) inside it, so what a killed build leaves is
// found and told apart from other programs' files.
const runDirPrefix = "polyarch-run-"

// runDirLock is the file, in a run directory, that its build holds
// flocked while it lives: a lock anyone can take marks a dead build.
const runDirLock = ".polyarch-run.lock"

// runDirGrace is how long a run directory without its lock file (a build
// killed while making it) is left alone, in case its build is only
// starting.
const runDirGrace = time.Hour

// TempDir returns the temporary directory buildah uses: $TMPDIR, else
// containers.conf's image_copy_tmp_dir, else /var/tmp.
func TempDir() string {
	if dir, ok := os.LookupEnv("TMPDIR"); ok {
		if abs, err := filepath.Abs(dir); err == nil {
			return abs
		}
	}
	if c, err := config.Default(); err == nil {
		if dir, err := c.ImageCopyTmpDir(); err == nil {
			return dir
		}
	}
	return "/var/tmp"
}

// EnterRunDir makes this build's run directory in TempDir, holds its
// lock and points TMPDIR at it, so everything buildah and polyarch put in
// temporary files goes there. leave unmounts what is still mounted under
// it, removes it and restores TMPDIR. When the directory cannot be made
// (a full or read-only disk), the build goes on without one: leave does
// nothing and the error says why.
func EnterRunDir() (leave func(), err error) {
	parent := TempDir()
	dir, err := os.MkdirTemp(parent, runDirPrefix)
	if err != nil {
		return func() {}, fmt.Errorf("creating a run directory in %s: %w", parent, err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, runDirLock), os.O_RDWR|os.O_CREATE, 0o600)
	if err == nil {
		err = flockRetry(lock, unix.LOCK_EX|unix.LOCK_NB)
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return func() {}, fmt.Errorf("locking the run directory %s: %w", dir, err)
	}
	old, had := os.LookupEnv("TMPDIR")
	_ = os.Setenv("TMPDIR", dir)
	return func() {
		if had {
			_ = os.Setenv("TMPDIR", old)
		} else {
			_ = os.Unsetenv("TMPDIR")
		}
		_ = removeRunDir(dir)
		_ = lock.Close()
	}, nil
}

// RemoveDeadRunDirs removes the run directories in TempDir of polyarch
// builds that are dead (their lock is free), after unmounting what is
// mounted under them in this mount namespace (buildah's overlay over a
// build context). Call it only while holding the build lock
// exclusively. It returns the directories removed.
func RemoveDeadRunDirs() ([]string, error) {
	parent := TempDir()
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil, nil // no temporary directory: nothing left over
	}
	removed := []string{}
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), runDirPrefix) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		ok, err := removeIfDead(dir)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			removed = append(removed, dir)
		}
	}
	return removed, errors.Join(errs...)
}

// removeIfDead removes dir when its build is dead.
func removeIfDead(dir string) (bool, error) {
	lock, err := os.OpenFile(filepath.Join(dir, runDirLock), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		st, serr := os.Stat(dir)
		if serr != nil || time.Since(st.ModTime()) < runDirGrace {
			return false, nil
		}
		return true, removeRunDir(dir)
	}
	if err != nil {
		return false, fmt.Errorf("opening the lock of run directory %s: %w", dir, err)
	}
	defer lock.Close()
	if flockRetry(lock, unix.LOCK_EX|unix.LOCK_NB) != nil {
		return false, nil // its build is alive
	}
	return true, removeRunDir(dir)
}

// removeRunDir unmounts every mount under dir, deepest first, then
// removes dir; with a mount left, nothing is removed (removing through
// an overlay would write whiteouts, never touching the build context,
// but what is mounted is not a run directory's to remove).
func removeRunDir(dir string) error {
	if err := unmountUnder(dir); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing the run directory %s of a dead polyarch build: %w", dir, err)
	}
	return nil
}

// unmountUnder detaches every mount at or below dir in this process's
// mount namespace.
func unmountUnder(dir string) error {
	infos, err := mount.GetMounts()
	if err != nil {
		return fmt.Errorf("reading /proc/self/mountinfo: %w", err)
	}
	var points []string
	for _, m := range infos {
		if m.Mountpoint == dir || strings.HasPrefix(m.Mountpoint, dir+"/") {
			points = append(points, m.Mountpoint)
		}
	}
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	for _, p := range points {
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmounting %s, left by a dead polyarch build: %w (unmount it as root, then run polyarch prune)", p, err)
		}
	}
	return nil
}
