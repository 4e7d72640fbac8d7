package builder

import (
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// buildah and containers/storage start helper processes by re-executing
// this binary under another argv[0] (buildah-copier, buildah-open-in-chroot,
// storage-untar, chrootuser-open...). buildah gives its RUN runtimes a
// parent-death signal, not the others: a helper blocked on a pipe or a
// FIFO outlived a killed polyarch, inside the build's mounts. So every
// helper asks for SIGKILL when its parent dies, before it does anything.

// helperPrefixes start the argv[0] of the re-executed helpers.
var helperPrefixes = []string{"buildah-", "storage-", lookupHelper}

// DieWithParent makes this process get SIGKILL when its parent dies, when
// it is one of the helpers buildah and containers/storage re-execute;
// otherwise it does nothing. main calls it first, before
// buildah.InitReexec.
func DieWithParent() {
	if !isHelper(os.Args[0]) {
		return
	}
	_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
}

// isHelper reports whether argv0 names a re-executed helper.
func isHelper(argv0 string) bool {
	name := filepath.Base(argv0)
	for _, p := range helperPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
