package builder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// runTree is a process tree shaped like one of buildah's RUN steps: a
// runtime named buildah-chroot-runtime in this process's UTS namespace,
// running a shell in a new user and UTS namespace (as buildah-chroot-exec
// does), whose two children sleep, the second ignoring SIGTERM.
type runTree struct {
	runtime     *exec.Cmd
	shell       int
	grandkids   []int
	grandkidFDs []int
	marker      string
}

// startRunTree starts a runTree and waits until the grandchildren run.
func startRunTree(t *testing.T) *runTree {
	t.Helper()
	m := fmt.Sprintf("%d.%06d", 300+os.Getpid()%100, time.Now().Nanosecond()/1000)
	tr := &runTree{marker: m}
	inner := fmt.Sprintf("sleep %s & (trap '' TERM; exec sleep %s) & wait", m, m)
	// The runtime's own child, in this UTS namespace, is orphaned too
	// when the runtime gets SIGTERM.
	tr.runtime = exec.Command("/bin/sh", "-c", "sleep "+m+"0 & unshare --user --map-root-user --uts sh -c \""+inner+"\"; wait")
	tr.runtime.Args[0] = "buildah-chroot-runtime"
	if err := tr.runtime.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = tr.runtime.Process.Kill()
		for _, pid := range append(withArg(m), withArg(m+"0")...) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for len(tr.grandkids) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		tr.grandkids = nil
		for _, pid := range withArg(m) {
			if argv(pid)[0] == "sleep" {
				tr.grandkids = append(tr.grandkids, pid)
				tr.shell = ppid(pid)
			}
		}
	}
	if len(tr.grandkids) < 2 {
		t.Fatalf("the RUN-like tree did not start: processes with %s: %v", m, withArg(m))
	}
	for _, pid := range tr.grandkids {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		tr.grandkidFDs = append(tr.grandkidFDs, fd)
	}
	if ppid(tr.shell) != tr.runtime.Process.Pid || sameUTS(tr.shell) || !sameUTS(tr.runtime.Process.Pid) {
		t.Fatalf("tree not shaped like a RUN step: shell %d (parent %d, own UTS %v), runtime %d", tr.shell, ppid(tr.shell), !sameUTS(tr.shell), tr.runtime.Process.Pid)
	}
	return tr
}

// orphan kills the shell, as buildah-chroot-exec kills a RUN's shell, and
// checks that its children are re-parented to this process.
func (tr *runTree) orphan(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(tr.shell, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && (ppid(tr.grandkids[0]) != os.Getpid() || ppid(tr.grandkids[1]) != os.Getpid()) {
		time.Sleep(10 * time.Millisecond)
	}
	for _, pid := range tr.grandkids {
		if p := ppid(pid); p != os.Getpid() {
			t.Fatalf("orphan %d has parent %d, want this subreaper %d", pid, p, os.Getpid())
		}
	}
}

// checkGone fails unless every process of the tree exited and was reaped,
// and the runtime was left for os/exec to wait for.
func (tr *runTree) checkGone(t *testing.T) {
	t.Helper()
	for i, fd := range tr.grandkidFDs {
		if err := unix.PidfdSendSignal(fd, 0, nil, 0); !errors.Is(err, unix.ESRCH) {
			t.Errorf("grandchild %d still exists (alive or unreaped): %v", tr.grandkids[i], err)
		}
	}
	if left := append(withArg(tr.marker), withArg(tr.marker+"0")...); len(left) > 0 {
		var desc []string
		for _, pid := range left {
			_, p, state, _ := readStat(fmt.Sprintf("/proc/%d/stat", pid))
			desc = append(desc, fmt.Sprintf("%d (parent %d, state %s): %q", pid, p, state, argv(pid)))
		}
		t.Errorf("processes with %s left (runtime %d, shell %d, grandchildren %v):\n%s", tr.marker, tr.runtime.Process.Pid, tr.shell, tr.grandkids, strings.Join(desc, "\n"))
	}
	err := tr.runtime.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Errorf("waiting for the runtime: %v, want its exit status (was it reaped by someone else?)", err)
	}
}

// TestRunProcsStopsOrphans: a RUN step's orphans are re-parented to the
// watching process, killed (SIGKILL after the grace for the one ignoring
// SIGTERM) and reaped; the runtime is left to os/exec; another child,
// named like buildah's copier, is untouched; the subreaper setting is restored.
func TestRunProcsStopsOrphans(t *testing.T) {
	const grace = 400 * time.Millisecond
	r, err := newRunProcs(grace, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = r.close()
		}
	})
	other := exec.Command("sleep", "302") // as buildah's helpers run, outside RUN steps
	other.Args[0] = "buildah-copier"
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
	tr := startRunTree(t)
	tr.orphan(t)

	done := make(chan struct{})
	close(done)
	start := time.Now()
	if err := r.stopAll(done); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("stopped in %s", took)
	if took < grace || took > grace+2*time.Second {
		t.Errorf("stopping took %s; want the grace %s (SIGKILL for the process ignoring SIGTERM) and little more", took, grace)
	}
	tr.checkGone(t)
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("unrelated child was stopped: %v", err)
	}
	closed = true
	if err := r.close(); err != nil {
		t.Fatal(err)
	}
	var now int32
	if err := unix.Prctl(unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(&now)), 0, 0, 0); err != nil || now != 0 {
		t.Errorf("still a child subreaper after close: %d, %v", now, err)
	}
}

// TestWatchRunStepsCancel: cancelling the build's context sends SIGTERM to
// the RUN tree at once, and the stop function returns only once the
// orphans are gone.
func TestWatchRunStepsCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop, err := watchRunSteps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tr := startRunTree(t)
	tr.orphan(t)
	obeys := tr.grandkids[0] // the one that does not ignore SIGTERM
	if ignoresTERM(obeys) {
		obeys = tr.grandkids[1]
	}
	cancel()
	deadline := time.Now().Add(2 * time.Second)
	for syscall.Kill(obeys, 0) == nil && !isZombie(obeys) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if syscall.Kill(obeys, 0) == nil && !isZombie(obeys) {
		t.Errorf("orphan %d did not get SIGTERM within 2s of the cancel", obeys)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	tr.checkGone(t)
}

// withArg lists the processes with arg among their arguments.
func withArg(arg string) []int {
	var out []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		for _, a := range argv(pid) {
			if a == arg {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// argv reads a process's arguments ([""] if unreadable).
func argv(pid int) []string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// ppid returns a process's parent pid, or -1.
func ppid(pid int) int {
	_, p, _, ok := readStat(fmt.Sprintf("/proc/%d/stat", pid))
	if !ok {
		return -1
	}
	return p
}

// isZombie reports whether pid has exited and awaits its parent.
func isZombie(pid int) bool {
	_, _, state, ok := readStat(fmt.Sprintf("/proc/%d/stat", pid))
	return ok && state == "Z"
}

// ignoresTERM reports whether pid ignores SIGTERM.
func ignoresTERM(pid int) bool {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			mask, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return mask&(1<<(uint(syscall.SIGTERM)-1)) != 0
		}
	}
	return false
}

// sameUTS reports whether pid shares this process's UTS namespace.
func sameUTS(pid int) bool {
	a, err1 := os.Readlink("/proc/self/ns/uts")
	b, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/uts", pid))
	return err1 == nil && err2 == nil && a == b
}
