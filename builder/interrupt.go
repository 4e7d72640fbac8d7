package builder

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// killGrace is how long RUN steps get to exit after SIGTERM on interrupt.
const killGrace = 3 * time.Second

// stopOnCancel makes a cancelled build stop its RUN steps: buildah does
// not cancel running processes when its context ends, so every RUN
// process tree (rooted at buildah's chroot runtime, a re-executed child
// of this process) gets SIGTERM, then SIGKILL after killGrace. Other
// children of a program embedding the builder are left alone. The
// returned function ends the watch.
func stopOnCancel(ctx context.Context) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		signalDescendants(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(killGrace):
			signalDescendants(syscall.SIGKILL)
		}
	}()
	return func() { close(done) }
}

// runtimePrefix starts the argv[0] of buildah's re-executed RUN runtimes
// (buildah-chroot-runtime, buildah-chroot-exec, buildah-oci-runtime).
const runtimePrefix = "buildah-"

// signalDescendants sends sig to every RUN process tree below this process.
func signalDescendants(sig syscall.Signal) {
	for _, pid := range descendants(os.Getpid(), isRuntime) {
		_ = syscall.Kill(pid, sig)
	}
}

// isRuntime reports whether pid runs one of buildah's RUN runtimes.
func isRuntime(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return false
	}
	argv0, _, _ := strings.Cut(string(b), "\x00")
	return strings.HasPrefix(filepath.Base(argv0), runtimePrefix)
}

// descendants lists the processes below root, from /proc, that match or
// descend from a process that matches.
func descendants(root int, match func(pid int) bool) []int {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		pid, ppid, ok := readPPID(path)
		if ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	type item struct {
		pid     int
		matched bool
	}
	var out []int
	queue := []item{{root, false}}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p.pid] {
			m := p.matched || match(c)
			if m {
				out = append(out, c)
			}
			queue = append(queue, item{c, m})
		}
	}
	return out
}

// readPPID parses the pid and parent pid from a /proc/PID/stat file.
func readPPID(path string) (pid, ppid int, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, 0, false
	}
	fields := strings.Fields(s[end+1:])
	if len(fields) < 2 {
		return 0, 0, false
	}
	pid, err1 := strconv.Atoi(strings.Fields(s)[0])
	ppid, err2 := strconv.Atoi(fields[1])
	return pid, ppid, err1 == nil && err2 == nil
}
