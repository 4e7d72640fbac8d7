package session

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// buildLockName is the lock file, in a store's run root, that builds
// hold shared and polyarch prune exclusively: until a build has assembled
// and tagged its result, its platform images and containers look like
// what prune removes.
const buildLockName = "polyarch-builds.lock"

// ErrStoreBusy is returned by LockStoreForPrune while a build runs.
var ErrStoreBusy = errors.New("a polyarch build is running on this store")

// LockStoreForBuild takes the build lock of the store whose run root is
// runRoot, shared with other builds; it waits while a prune runs. Call
// unlock when the build is over (the lock also goes with the process).
func LockStoreForBuild(runRoot string) (unlock func(), err error) {
	return lockStore(runRoot, unix.LOCK_SH)
}

// LockStoreForPrune takes the build lock exclusively without waiting:
// ErrStoreBusy while any build holds it.
func LockStoreForPrune(runRoot string) (unlock func(), err error) {
	unlock, err = lockStore(runRoot, unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return nil, ErrStoreBusy
	}
	return unlock, err
}

// lockStore flocks runRoot's build lock file with how.
func lockStore(runRoot string, how int) (func(), error) {
	path := filepath.Join(runRoot, buildLockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the build lock %s: %w", path, err)
	}
	if err = flockRetry(f, how); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { _ = f.Close() }, nil
}
