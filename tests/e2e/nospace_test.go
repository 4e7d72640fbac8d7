package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFullDiskLeavesStoreUsable builds on a store whose graphroot is an
// 8 MiB tmpfs: a step that fills it fails naming the store, the space is
// reclaimed, containers/storage's Check finds nothing, and the next small
// build succeeds.
func TestFullDiskLeavesStoreUsable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs graphroot needs root; the root run of the suite covers it")
	}
	s := newStore(t)
	mountTmpfs(t, s.Root, "8m")
	ctxDir := writeContext(t, "FROM oci:busybox-oci:amd64\nRUN dd if=/dev/zero of=/big bs=1M count=20\n",
		map[string]string{"Containerfile.small": "FROM oci:busybox-oci:amd64\nRUN echo small > /small\n"})
	copyPath(t, filepath.Join(env.Fixtures, "busybox-oci"), filepath.Join(ctxDir, "busybox-oci"))

	r := polyarch(t, s, "build", "--platform", "linux/amd64", ctxDir)
	if r.Code == 0 {
		t.Fatal("a build that writes 20 MiB into an 8 MiB store succeeded")
	}
	if want := "no space left on device at " + s.Root + " (store)"; !strings.Contains(r.Stderr, want) {
		t.Errorf("error does not say %q: %s", want, r.Stderr)
	}
	if free := freeBytes(t, s.Root); free < 4<<20 {
		t.Errorf("only %d bytes free in the store after the failed build: its space was not reclaimed", free)
	}
	checkStore(t, s)
	mustSucceed(t, polyarch(t, s, "build", "-f", filepath.Join(ctxDir, "Containerfile.small"), "--platform", "linux/amd64", "-t", "small:1", ctxDir))
	checkStore(t, s)
}

// mountTmpfs mounts a tmpfs of size on dir until the test ends, with
// whatever the store mounted below it.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mounting a tmpfs on %s: %v: %s", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-R", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("unmounting %s: %v: %s", dir, err, out)
		}
	})
}

// freeBytes returns the space left on dir's file system.
func freeBytes(t *testing.T, dir string) uint64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return st.Bavail * uint64(st.Bsize)
}

// checkStore runs containers/storage's Check (CheckMost: layer digests,
// mounts, data) on the test store, through the hidden polyarch
// check-store, which also works rootless, and fails on any problem.
func checkStore(t *testing.T, s store) {
	t.Helper()
	r := polyarch(t, s, "check-store")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "" {
		t.Errorf("store.Check reports on %s (exit %d):\n%s%s", s.Root, r.Code, r.Stdout, r.Stderr)
	}
}
