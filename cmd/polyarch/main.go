// Command polyarch builds, stores and exports multi-architecture OCI
// images without a daemon or root.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.podman.io/buildah"
)

func main() {
	if buildah.InitReexec() {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := newApp()
	args, err := permuteArgs(app, os.Args)
	if err == nil {
		err = app.RunContext(ctx, args)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", hint(err))
		stop()
		os.Exit(exitCode(err))
	}
}
