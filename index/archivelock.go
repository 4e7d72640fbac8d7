package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.podman.io/image/v5/oci/archive"
	"go.podman.io/image/v5/types"
	"golang.org/x/sys/unix"
)

// Writing an oci-archive file: containers/image's archive destination
// creates the file with os.Create (truncating it) and streams the tar
// into it, so two writers of one path interleave into a torn archive and
// a reader or a crash sees half a file. polyarch never lets it write the
// destination: every write goes to a hidden staging directory next to
// it, and the finished, fsynced archive is renamed over the destination
// under the archive's lock (ArchiveLockPath). The archive appears
// complete or not at all; of concurrent writers, the last to finish wins.

// ArchiveLockPath returns the lock file of the oci-archive file path:
// .BASE.lock in the same directory (.app.tar.lock for app.tar). polyarch
// takes an exclusive flock(2) on it while it moves a finished archive
// into place (copy, index push, build -o type=oci-archive, export); a
// tool that reads an archive and writes it back can take it too. The
// file is left in place, empty.
func ArchiveLockPath(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".lock")
}

// waitFlock opens (creating) the lock file path and takes an exclusive
// flock on it, polling until ctx ends; what names the locked object in
// errors.
func waitFlock(ctx context.Context, path, what string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock file %s of %s: %w", path, what, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			break
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for another writer of %s to finish (lock %s): %w", what, path, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s (%s): %w", what, path, err)
	}
	return f, nil
}

// replaceArchive renames the finished archive staged over dest under
// dest's lock, then fsyncs the directory, so dest is always a complete
// archive: the old one or the new one.
func replaceArchive(ctx context.Context, staged, dest string) error {
	f, err := waitFlock(ctx, ArchiveLockPath(dest), "output file "+dest)
	if err != nil {
		return err
	}
	defer func() {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		_ = f.Close()
	}()
	return replace(staged, dest)
}

// archiveTarget resolves the file an oci-archive reference names: an
// absolute path, through a symbolic link to an existing file (whose
// target is replaced, as writing through the link did). A directory
// there is refused (see CheckExportDest).
func archiveTarget(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("resolving oci-archive %q: %w", path, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	if err := CheckExportDest(abs, true); err != nil {
		return "", err
	}
	return abs, nil
}

// writeArchive runs write against an oci-archive reference to a staging
// file next to the oci-archive destination dst, then moves the finished
// archive into place (see replaceArchive). On failure dst is untouched
// and the staging file removed.
func writeArchive[T any](ctx context.Context, dst types.ImageReference, write func(staged types.ImageReference) (T, error)) (T, error) {
	var zero T
	path, name := layoutPathAndTag(dst)
	dest, err := archiveTarget(path)
	if err != nil {
		return zero, err
	}
	tmp, err := newStagingDir(dest)
	if err != nil {
		return zero, err
	}
	defer tmp.remove()
	staged := filepath.Join(tmp.path, "out")
	ref, err := archive.NewReference(staged, name)
	if err != nil {
		return zero, err
	}
	out, err := write(ref)
	if err != nil {
		return zero, err
	}
	if err := syncDir(staged); err != nil {
		return zero, fmt.Errorf("flushing the staged oci-archive %s: %w", dest, err)
	}
	return out, replaceArchive(ctx, staged, dest)
}
