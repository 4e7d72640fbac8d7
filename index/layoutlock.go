package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// LayoutLockName is the file inside an OCI layout directory on which
// polyarch takes an exclusive flock(2) while it changes the layout:
// moving blobs in and rewriting index.json. Every polyarch writer of a
// layout (copy, index push, build -o type=oci) takes it, so concurrent
// writers keep every tag. Readers need no lock: index.json is only ever
// replaced by a rename. Other tools (skopeo) do not take it.
const LayoutLockName = ".polyarch.lock"

// tempMarker names polyarch's temporary files inside a layout; they are
// only created under the lock, so any found on taking it are left over
// from a killed writer and removed.
const tempMarker = ".polyarch-tmp-"

// layoutLock is a held lock on one layout directory.
type layoutLock struct {
	f   *os.File
	dir string
}

// lockLayout creates dir if needed and takes its lock, waiting for other
// writers until ctx ends. Leftover temporary files are then removed.
func lockLayout(ctx context.Context, dir string) (*layoutLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating OCI layout %s: %w", dir, err)
	}
	f, err := waitFlock(ctx, filepath.Join(dir, LayoutLockName), "OCI layout "+dir)
	if err != nil {
		return nil, err
	}
	l := &layoutLock{f: f, dir: dir}
	l.removeLeftovers()
	return l, nil
}

// unlock releases the lock.
func (l *layoutLock) unlock() {
	_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	_ = l.f.Close()
}

// removeLeftovers deletes temporary files a killed writer left in the
// layout's top directory.
func (l *layoutLock) removeLeftovers() {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), tempMarker) {
			_ = os.RemoveAll(filepath.Join(l.dir, e.Name()))
		}
	}
}

// writeAtomic replaces the file name in the locked layout with data: a
// temporary file is written and fsynced, renamed over name, and the
// directory fsynced, so a crash at any point leaves the old or the new
// content, never a torn file.
func (l *layoutLock) writeAtomic(name string, data []byte) error {
	path := filepath.Join(l.dir, name)
	f, err := os.CreateTemp(l.dir, "."+name+tempMarker+"*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return syncDir(l.dir)
}

// stagingDir is a hidden sibling of a destination, .BASE.polyarch-XXXX,
// on the same file system, where an output is written before it is
// moved in. Its writer holds a flock on it while it lives, so a later
// writer can tell one left by a killed process and remove it.
type stagingDir struct {
	path string
	f    *os.File
}

// newStagingDir removes staging directories of dest whose writer died,
// then creates a new one, locked. It is created under a name the
// clean-up ignores and renamed once locked, so no other writer removes
// it in between.
func newStagingDir(dest string) (*stagingDir, error) {
	parent, base := filepath.Dir(dest), filepath.Base(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("creating parent of output %s: %w", dest, err)
	}
	removeDeadStaging(parent, base)
	tmp, err := os.MkdirTemp(parent, "."+base+".polyarch~")
	if err != nil {
		return nil, fmt.Errorf("creating temporary output next to %s: %w", dest, err)
	}
	f, err := os.Open(tmp)
	if err == nil {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
	}
	s := &stagingDir{path: strings.Replace(tmp, ".polyarch~", ".polyarch-", 1), f: f}
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		_ = os.RemoveAll(tmp)
		return nil, fmt.Errorf("creating temporary output next to %s: %w", dest, err)
	}
	return s, nil
}

// remove deletes the staging directory and releases it.
func (s *stagingDir) remove() {
	_ = os.RemoveAll(s.path)
	_ = s.f.Close()
}

// removeDeadStaging removes the staging directories .BASE.polyarch-* in
// parent that no live writer holds locked.
func removeDeadStaging(parent, base string) {
	dirs, _ := filepath.Glob(filepath.Join(parent, "."+base+".polyarch-*"))
	for _, d := range dirs {
		f, err := os.Open(d)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			_ = os.RemoveAll(d)
		}
		f.Close()
	}
}
