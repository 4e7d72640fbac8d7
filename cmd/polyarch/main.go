// Command polyarch builds, stores and exports multi-architecture OCI
// images without a daemon or root.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/polyarch/polyarch/builder"
	"github.com/polyarch/polyarch/session"
	"go.podman.io/buildah"
)

func main() {
	builder.DieWithParent()     // a re-executed helper never outlives polyarch
	builder.ServeUserLookup()   // replaces buildah's user-lookup helper; exits when it is one
	builder.ServeRunNamespace() // gives chroot RUN steps their own PID, IPC and mount namespaces
	if buildah.InitReexec() {
		return
	}
	ctx, caught := signalContext()
	app := newApp()
	args, err := permuteArgs(app, os.Args)
	if err == nil {
		err = app.RunContext(ctx, args)
	}
	var re *session.Reexec
	if errors.As(err, &re) {
		os.Exit(runReexec(re, caught))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", hint(err))
		code := exitCode(err)
		if s := caught.Load(); s != nil {
			code = 128 + int(s.(syscall.Signal)) // as shells report a signal
		}
		os.Exit(code)
	}
}

// runReexec runs this command again in polyarch's own user namespace,
// as a command asked by returning re, and returns the status to exit
// with: the child's, 128+N if signal N killed it. A signal caught before
// the child starts ends polyarch with 128+N instead.
func runReexec(re *session.Reexec, caught *atomic.Value) int {
	if s := caught.Load(); s != nil {
		return 128 + int(s.(syscall.Signal))
	}
	code, err := re.Run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
	}
	return code
}

// signalContext returns a context cancelled by the first SIGINT, SIGTERM
// or SIGHUP, and the signal that came. A second signal has its default
// effect, so a stuck cleanup can still be interrupted.
func signalContext() (context.Context, *atomic.Value) {
	ctx, cancel := context.WithCancel(context.Background())
	caught := &atomic.Value{}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		caught.Store(s)
		signal.Stop(sigs)
		cancel()
	}()
	return ctx, caught
}
