package builder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// killGrace is how long RUN processes get to exit after SIGTERM before
// they get SIGKILL; killWait bounds the wait after SIGKILL.
const (
	killGrace    = 3 * time.Second
	killWait     = 5 * time.Second
	pollInterval = 25 * time.Millisecond
)

// watchRunSteps makes sure no process of a RUN step outlives the build.
// buildah neither cancels running RUN steps when its context ends nor
// follows the processes they leave behind: when buildah's chroot runtime
// kills a RUN's shell, its children (a sleep, the qemu running it) are
// orphaned. So for the duration of the build this process becomes a child
// subreaper: orphans of RUN steps are re-parented to it instead of to PID
// 1. When ctx ends, every RUN process gets SIGTERM, and SIGKILL after
// killGrace. The returned function ends the watch: it stops the RUN
// processes still there (those of a cancelled build, or background
// processes a RUN step left), waits until every one is gone, reaping the
// orphans it adopted, and restores the subreaper setting. It returns an
// error if a process outlives killWait after SIGKILL. (An orphan that
// exits on its own before the watch has seen it alive stays a zombie child
// of this process: it cannot be told from a child os/exec waits for.)
func watchRunSteps(ctx context.Context) (stop func() error, err error) {
	r, err := newRunProcs(killGrace, killWait)
	if err != nil {
		return nil, err
	}
	done, result := make(chan struct{}), make(chan error, 1)
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		result <- r.stopAll(done)
	}()
	return func() error {
		close(done)
		return errors.Join(<-result, r.close())
	}, nil
}

// runProcs follows the RUN processes below this process. A RUN process is
// one of buildah's RUN runtimes (argv[0] buildah-chroot-runtime, …), which
// this process starts and buildah waits for, or a process below one, or an
// orphan of those adopted by this process: one seen below a runtime
// before, or any child in another UTS namespace (only buildah's chroot
// runtime starts processes in a new UTS namespace).
type runProcs struct {
	self        int
	uts         string // this process's UTS namespace
	grace, wait time.Duration
	wasReaper   bool
	// tracked holds a pidfd per RUN process below a runtime or adopted,
	// never one of the runtimes: this process may reap those (never by
	// pid, never wait4(-1), which would steal the children os/exec waits
	// for), and a pidfd cannot name a reused pid.
	tracked map[int]int
	termed  map[int]bool // pids already sent SIGTERM
}

// newRunProcs makes this process a child subreaper until close.
func newRunProcs(grace, wait time.Duration) (*runProcs, error) {
	uts, err := os.Readlink("/proc/self/ns/uts")
	if err != nil {
		return nil, fmt.Errorf("watching RUN processes: %w", err)
	}
	var was int32
	if err := unix.Prctl(unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(&was)), 0, 0, 0); err != nil {
		return nil, fmt.Errorf("watching RUN processes: reading PR_GET_CHILD_SUBREAPER: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("watching RUN processes: becoming a child subreaper: %w", err)
	}
	return &runProcs{self: os.Getpid(), uts: uts, grace: grace, wait: wait, wasReaper: was != 0,
		tracked: map[int]int{}, termed: map[int]bool{}}, nil
}

// close restores the subreaper setting and releases the pidfds.
func (r *runProcs) close() error {
	for pid, fd := range r.tracked {
		unix.Close(fd)
		delete(r.tracked, pid)
	}
	if r.wasReaper {
		return nil
	}
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
}

// stopAll signals RUN processes, SIGTERM first and SIGKILL from grace on,
// until done is closed (the build returned) and none is left.
func (r *runProcs) stopAll(done <-chan struct{}) error {
	killAt := time.Now().Add(r.grace)
	var returned time.Time
	for {
		sig := syscall.SIGTERM
		if time.Now().After(killAt) {
			sig = syscall.SIGKILL
		}
		left := r.sweep(sig)
		if returned.IsZero() && isClosed(done) {
			returned = time.Now()
		}
		if !returned.IsZero() {
			if len(left) == 0 {
				return nil
			}
			if time.Now().After(later(killAt, returned).Add(r.wait)) {
				return fmt.Errorf("RUN processes %v still exist %s after SIGKILL", left, r.wait)
			}
		}
		select {
		case <-done:
			time.Sleep(pollInterval)
		case <-time.After(pollInterval):
		}
	}
}

// sweep reaps the adopted RUN processes that exited, signals the live
// ones (SIGTERM once each, SIGKILL every time), and returns the pids of
// the RUN processes that still exist.
func (r *runProcs) sweep(sig syscall.Signal) []int {
	r.reap()
	var left []int
	tree := readProcTree()
	var visit func(pid int, below bool)
	visit = func(pid int, below bool) {
		for _, c := range tree[pid] {
			if c.zombie {
				continue // its parent reaps it; an adopted one is tracked
			}
			_, known := r.tracked[c.pid]
			switch {
			case below || known || r.adopted(c.pid):
				r.track(c.pid)
			case !isRuntime(c.pid):
				continue // not a RUN process: leave it alone
			}
			if r.signal(c.pid, sig) {
				left = append(left, c.pid)
			}
			visit(c.pid, true)
		}
	}
	visit(r.self, false)
	for pid := range r.tracked {
		if !slices.Contains(left, pid) {
			left = append(left, pid) // exited, not reaped yet
		}
	}
	slices.Sort(left)
	return left
}

// adopted reports whether pid, a child of this process, is a RUN step's
// orphan re-parented to it: a child in another UTS namespace. (Orphans
// seen below a runtime before are known by their pidfd.)
func (r *runProcs) adopted(pid int) bool {
	uts, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "ns", "uts"))
	return err == nil && uts != r.uts
}

// track opens a pidfd for a RUN process, once.
func (r *runProcs) track(pid int) {
	if _, ok := r.tracked[pid]; ok {
		return
	}
	if fd, err := unix.PidfdOpen(pid, 0); err == nil {
		r.tracked[pid] = fd
	}
}

// signal sends sig to pid (SIGTERM only once), through its pidfd when
// tracked, and reports whether the process still exists.
func (r *runProcs) signal(pid int, sig syscall.Signal) bool {
	if sig == syscall.SIGTERM && r.termed[pid] {
		sig = 0 // only check
	}
	var err error
	if fd, ok := r.tracked[pid]; ok {
		err = unix.PidfdSendSignal(fd, sig, nil, 0)
	} else {
		err = syscall.Kill(pid, sig)
	}
	if sig == syscall.SIGTERM {
		r.termed[pid] = true
	}
	return err == nil
}

// reap collects the exit status of every tracked process that exited as
// a child of this process, and forgets those that no longer exist (reaped
// by their own parent, or just now).
func (r *runProcs) reap() {
	for pid, fd := range r.tracked {
		var info unix.Siginfo
		// ECHILD unless it is an adopted child of this process.
		_ = unix.Waitid(unix.P_PIDFD, fd, &info, unix.WEXITED|unix.WNOHANG, nil)
		if err := unix.PidfdSendSignal(fd, 0, nil, 0); errors.Is(err, unix.ESRCH) {
			unix.Close(fd)
			delete(r.tracked, pid)
			delete(r.termed, pid)
		}
	}
}

// runtimes are the argv[0] of buildah's re-executed RUN runtimes
// (go.podman.io/buildah chroot/run_common.go and run.go). Its other
// re-executed helpers, such as buildah-copier, which also cleans up after
// a RUN step, are left alone.
var runtimes = []string{"buildah-chroot-runtime", "buildah-chroot-exec", "buildah-oci-runtime"}

// isRuntime reports whether pid runs one of buildah's RUN runtimes.
func isRuntime(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return false
	}
	argv0, _, _ := strings.Cut(string(b), "\x00")
	return slices.Contains(runtimes, filepath.Base(argv0))
}

// procEntry is one process of the process tree.
type procEntry struct {
	pid    int
	zombie bool
}

// readProcTree maps each pid to its children, from /proc.
func readProcTree() map[int][]procEntry {
	children := map[int][]procEntry{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		pid, ppid, state, ok := readStat(path)
		if ok {
			children[ppid] = append(children[ppid], procEntry{pid: pid, zombie: state == "Z" || state == "X"})
		}
	}
	return children
}

// readStat parses the pid, state and parent pid from a /proc/PID/stat
// file (the command name in parentheses may hold spaces and parentheses).
func readStat(path string) (pid, ppid int, state string, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, "", false
	}
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, 0, "", false
	}
	fields := strings.Fields(s[end+1:])
	if len(fields) < 2 {
		return 0, 0, "", false
	}
	pid, err1 := strconv.Atoi(strings.Fields(s)[0])
	ppid, err2 := strconv.Atoi(fields[1])
	return pid, ppid, fields[0], err1 == nil && err2 == nil
}

// isClosed reports whether ch is closed.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
