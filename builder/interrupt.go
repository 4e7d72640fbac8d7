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
// not cancel running processes when its context ends, so every process
// descended from polyarch gets SIGTERM, then SIGKILL after killGrace.
// The returned function ends the watch.
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

// signalDescendants sends sig to every process descended from this one.
func signalDescendants(sig syscall.Signal) {
	for _, pid := range descendants(os.Getpid()) {
		_ = syscall.Kill(pid, sig)
	}
}

// descendants lists the processes below root, from /proc.
func descendants(root int) []int {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		pid, ppid, ok := readPPID(path)
		if ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
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
