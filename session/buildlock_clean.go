package session

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// LockStoreForBuildCleaning is LockStoreForBuild for a build that first
// removes what killed builds left behind: when no other polyarch build
// or prune holds the lock, clean runs with it held exclusively (nothing
// of another polyarch build can be half done then); the lock is then
// shared, waiting while a prune runs. With another build running, clean
// is skipped.
func LockStoreForBuildCleaning(runRoot string, clean func()) (unlock func(), err error) {
	path := filepath.Join(runRoot, buildLockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the build lock %s: %w", path, err)
	}
	if flockRetry(f, unix.LOCK_EX|unix.LOCK_NB) == nil {
		clean()
	}
	if err := flockRetry(f, unix.LOCK_SH); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { _ = f.Close() }, nil
}

// flockRetry flocks f with how, again when a signal interrupts it.
func flockRetry(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
