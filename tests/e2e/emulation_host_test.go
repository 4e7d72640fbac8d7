package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/polyarch/polyarch/emulation"
	"golang.org/x/sys/unix"
)

// Helpers for the tests that change the host's binfmt_misc. Such tests
// never call t.Parallel, and each starts with guardHost, which restores the
// host when the test ends.

// hostBinfmt is the host's binfmt_misc mount point.
const hostBinfmt = emulation.DefaultMountPoint

// dummyRegister registers a handler of no emulator, matched by the file
// name extension .pdtest, that polyarch must never remove.
const dummyRegister = ":polyarch-test-dummy:E::pdtest::/bin/true:"

// binfmtListing describes the host's binfmt_misc for byte-wise comparison:
// its lines of /proc/self/mounts, then `ls -la` and the content of every
// entry but the write-only register, or "not mounted".
func binfmtListing(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mounts), "\n") {
		if strings.Contains(line, "binfmt_misc") {
			b.WriteString(line + "\n")
		}
	}
	if mounted, err := emulation.Mounted(hostBinfmt); err != nil || !mounted {
		b.WriteString("not mounted\n")
		return b.String()
	}
	ls, err := exec.Command("ls", "-la", "--time-style=full-iso", hostBinfmt).CombinedOutput()
	if err != nil {
		t.Fatalf("ls %s: %v: %s", hostBinfmt, err, ls)
	}
	b.Write(ls)
	entries, err := os.ReadDir(hostBinfmt)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "register" { // write-only
			continue
		}
		content, err := os.ReadFile(filepath.Join(hostBinfmt, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("== " + e.Name() + "\n" + string(content))
	}
	return b.String()
}

// guardHost records the host's binfmt_misc and restores it exactly at the
// end of the test: handlers the test added or changed are removed,
// handlers it removed or changed are registered again as they were
// (disabled ones disabled again), and binfmt_misc is unmounted if it was
// not mounted. For the test's duration it also unregisters the qemu
// handlers already there (such as those Debian's systemd-binfmt
// registers), so every test starts from a host without them. It needs
// root (requireRoot skips in the rootless run).
func guardHost(t *testing.T) {
	t.Helper()
	requireRoot(t)
	wasMounted, err := emulation.Mounted(hostBinfmt)
	if err != nil {
		t.Fatal(err)
	}
	var before []emulation.Handler
	if wasMounted {
		if before, err = emulation.ReadHandlers(hostBinfmt); err != nil {
			t.Fatal(err)
		}
	}
	listing := binfmtListing(t)
	t.Logf("host binfmt_misc before the test (mounted: %v):\n%s", wasMounted, listing)
	t.Cleanup(func() { restoreHost(t, wasMounted, before) })
	for _, h := range before {
		if servesTable(h) {
			if err := emulation.Unregister(hostBinfmt, h.Name); err != nil {
				t.Fatal(err)
			}
			t.Logf("unregistered the host's %s (interpreter %s, flags %q) for the test; it is restored afterwards", h.Name, h.Interpreter, h.Flags)
		}
	}
}

// servesTable reports whether h is a qemu handler of polyarch's table: it
// has a table name, or it serves a foreign platform of the table.
func servesTable(h emulation.Handler) bool {
	for _, e := range emulation.Table() {
		if h.Name == emulation.HandlerName(e) || (!emulation.Native(e.Platform) && emulation.Serves(h, e)) {
			return true
		}
	}
	return false
}

// restoreHost puts the host's binfmt_misc back as guardHost found it.
func restoreHost(t *testing.T, wasMounted bool, before []emulation.Handler) {
	if mounted, _ := emulation.Mounted(hostBinfmt); !mounted {
		if wasMounted {
			t.Errorf("binfmt_misc at %s was unmounted by the test", hostBinfmt)
		}
		return
	}
	now, err := emulation.ReadHandlers(hostBinfmt)
	if err != nil {
		t.Errorf("restoring the host: %v", err)
	}
	for _, h := range now {
		if !slices.Contains(before, h) { // added or changed
			if err := emulation.Unregister(hostBinfmt, h.Name); err != nil {
				t.Errorf("restoring the host: %v", err)
			}
		}
	}
	for _, h := range before {
		if !slices.Contains(now, h) {
			if err := reregisterHost(h); err != nil {
				t.Errorf("restoring the host: %v", err)
			}
		}
	}
	if !wasMounted {
		if err := unix.Unmount(hostBinfmt, 0); err != nil {
			t.Errorf("restoring the host: unmounting %s: %v", hostBinfmt, err)
		}
		return
	}
	if after, err := emulation.ReadHandlers(hostBinfmt); err != nil || !slices.Equal(after, before) {
		t.Errorf("restoring the host: handlers %+v (%v), want %+v", after, err, before)
	}
}

// reregisterHost registers h again as it was, disabled if it was.
func reregisterHost(h emulation.Handler) error {
	if err := emulation.RegisterHandler(hostBinfmt, h); err != nil || h.Enabled {
		return err
	}
	f, err := os.OpenFile(filepath.Join(hostBinfmt, h.Name), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte("0"))
	return errors.Join(err, f.Close())
}

// hostHandlers lists the names in the host's binfmt_misc.
func hostHandlers(t *testing.T) []string {
	t.Helper()
	hs, err := emulation.ReadHandlers(hostBinfmt)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range hs {
		names = append(names, h.Name)
	}
	return names
}

// mountHost mounts the host's binfmt_misc for the test (guardHost
// unmounts it again if it was not mounted before).
func mountHost(t *testing.T) {
	t.Helper()
	if mounted, _ := emulation.Mounted(hostBinfmt); !mounted {
		mustSucceed(t, runCmd(t, "", "mount", "-t", "binfmt_misc", "binfmt_misc", hostBinfmt))
	}
}

// registerDummy registers dummyRegister with the shell, as an
// administrator would.
func registerDummy(t *testing.T) {
	t.Helper()
	mustSucceed(t, runCmd(t, "", "sh", "-c", "echo '"+dummyRegister+"' > "+hostBinfmt+"/register"))
}
