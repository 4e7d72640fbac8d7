package session

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"

	"go.podman.io/storage/pkg/unshare"
)

// Reexec is this polyarch command run again in a new user and mount
// namespace. It is an error so that a command's action can return it
// up to main, which runs it and exits with its status: library code
// never re-executes or exits the process itself. Its command line is
// never logged or printed, as it may hold --creds.
type Reexec struct {
	cmd *unshare.Cmd
}

// Error says what the caller must do; main never prints it.
func (r *Reexec) Error() string {
	return "polyarch must run again in its own user namespace: main runs the returned *session.Reexec"
}

// Run starts the child, forwards SIGINT, SIGTERM and SIGHUP to it until
// it exits, and returns its exit status: 128+N if signal N killed it.
// The error says why the child could not be started or waited for.
func (r *Reexec) Run() (int, error) {
	// Pdeathsig follows the thread that started the child: keep it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	done := make(chan struct{})
	defer close(done)
	r.cmd.Hook = func(int) error {
		go forward(r.cmd.Cmd.Process, signals, done)
		return nil
	}
	if err := r.cmd.Start(); err != nil {
		return 1, fmt.Errorf("starting polyarch in a new user namespace: %w", err)
	}
	return exitStatus(r.cmd.Wait())
}

// forward sends every signal received to p until done is closed.
func forward(p *os.Process, signals <-chan os.Signal, done <-chan struct{}) {
	for {
		select {
		case s := <-signals:
			_ = p.Signal(s)
		case <-done:
			return
		}
	}
}

// exitStatus turns the result of Wait into an exit status, as shells
// report it.
func exitStatus(err error) (int, error) {
	var ee *exec.ExitError
	if err == nil {
		return 0, nil
	}
	if !errors.As(err, &ee) {
		return 1, fmt.Errorf("waiting for polyarch in its user namespace: %w", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ee.ExitCode(), nil
}
