package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/polyarch/polyarch/session"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
)

// version is set at link time by the Makefile.
var version = "dev"

// globalOptions are the flags shared by every command, as podman has them.
type globalOptions struct {
	Root     string
	RunRoot  string
	Driver   string
	LogLevel string
	// CPUProfile and Trace are the hidden --cpuprofile and --trace files.
	CPUProfile, Trace string
	// ParseOnly is the hidden --parse-only: commands stop at their
	// checkpoint (parsed) after validating, before any work.
	ParseOnly bool
	profiling *profiling
	Stdout    io.Writer
	Stderr    io.Writer
}

// newApp builds the command tree writing to the process's stdout and stderr.
func newApp() *cli.App {
	return newAppWithOutput(os.Stdout, os.Stderr)
}

// newAppWithOutput builds the command tree writing to stdout and stderr;
// tests build a fresh one per run.
func newAppWithOutput(stdout, stderr io.Writer) *cli.App {
	g := &globalOptions{Stdout: stdout, Stderr: stderr}
	app := &cli.App{
		Name:                      "polyarch",
		Usage:                     "build multi-architecture OCI images, daemonless and rootless",
		Version:                   version,
		EnableBashCompletion:      true,
		DisableSliceFlagSeparator: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Usage: "storage root `DIR` (default: podman's)", Destination: &g.Root},
			&cli.StringFlag{Name: "runroot", Usage: "storage state `DIR` (default: podman's)", Destination: &g.RunRoot},
			&cli.StringFlag{Name: "storage-driver", Usage: "storage `DRIVER` (overlay, vfs; default: podman's)", Destination: &g.Driver},
			&cli.StringFlag{Name: "log-level", Value: "warn", Usage: "`LEVEL`: debug, info, warn, error", Destination: &g.LogLevel},
		},
		Before: func(c *cli.Context) error { return g.setup(c) },
		// A command that returned a *session.Reexec has had its profiles
		// discarded already (discardOnReexec): the child writes them.
		After: func(*cli.Context) error { return g.profiling.stop(true) },
		Commands: []*cli.Command{
			newBuildCommand(g),
			newIndexCommand(g),
			newInfoCommand(g),
			newEmulationCommand(g),
			newCopyCommand(g),
			newKeyCommand(g),
			newExportCommand(g),
			newVerifyCommand(g),
			newLoginCommand(g),
			newLogoutCommand(g),
			newCheckStoreCommand(g),
			newImagesCommand(g),
			newRmiCommand(g),
			newPruneCommand(g),
			newTagCommand(g),
			newCompletionCommand(g),
		},
		ExitErrHandler: func(*cli.Context, error) {},
		Writer:         stdout,
		ErrWriter:      stderr,
	}
	app.Flags = append(append(app.Flags, profileFlags(g)...), parseOnlyFlag(g))
	discardOnReexec(g, app.Commands)
	parseOnlyActions(g, app.Commands)
	usageErrors(app.Commands)
	app.CommandNotFound = func(c *cli.Context, name string) {
		fmt.Fprintf(c.App.ErrWriter, "Error: unknown command %q: see polyarch --help\n", name)
		os.Exit(125)
	}
	app.OnUsageError = func(c *cli.Context, err error, _ bool) error {
		return cli.Exit(fmt.Sprintf("%v\nsee: polyarch --help", err), 125)
	}
	return app
}

// usageErrors makes every command's flag errors exit 125, as podman's do,
// with a pointer to its help.
func usageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = func(c *cli.Context, err error, _ bool) error {
			return cli.Exit(fmt.Sprintf("%v\nsee: %s --help", err, c.Command.HelpName), 125)
		}
		usageErrors(c.Subcommands)
	}
}

// storeOptions returns the store the global flags select.
func (g *globalOptions) storeOptions() session.StoreOptions {
	return session.StoreOptions{Root: g.Root, RunRoot: g.RunRoot, Driver: g.Driver}
}

// setup applies the log level and starts the profiles asked for.
func (g *globalOptions) setup(c *cli.Context) error {
	lvl, err := logrus.ParseLevel(g.LogLevel)
	if err != nil {
		return fmt.Errorf("invalid --log-level %q: use debug, info, warn or error", g.LogLevel)
	}
	logrus.SetLevel(lvl)
	logrus.SetOutput(g.Stderr)
	g.profiling, err = startProfiling(g)
	return err
}

// discardOnReexec makes every command that returns a *session.Reexec
// end this process's profiling without writing its files, before the
// app's After hook would: the re-executed child gets the same flags and
// alone writes them.
func discardOnReexec(g *globalOptions, cmds []*cli.Command) {
	wrapActions(cmds, func(c *cli.Context, action cli.ActionFunc) error {
		err := action(c)
		var re *session.Reexec
		if errors.As(err, &re) {
			_ = g.profiling.stop(false)
		}
		return err
	})
}

// wrapActions replaces the action of every command, subcommands
// included, by wrap called with the original.
func wrapActions(cmds []*cli.Command, wrap func(c *cli.Context, action cli.ActionFunc) error) {
	for _, c := range cmds {
		if action := c.Action; action != nil {
			c.Action = func(c *cli.Context) error { return wrap(c, action) }
		}
		wrapActions(c.Subcommands, wrap)
	}
}

// exitCode returns the status for an error: 125 for usage errors, as
// podman does, else 1.
func exitCode(err error) int {
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return 1
}

// hint adds the next step to errors whose cause is well known.
func hint(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "exec format error"):
		return fmt.Errorf("%w\nhint: no working qemu handler for a foreign platform: install qemu-user-static, or run `sudo polyarch emulation install` once", err)
	case strings.Contains(msg, "lchown") && strings.Contains(msg, "invalid argument"):
		return fmt.Errorf("%w\nhint: a file is owned by a uid outside your user namespace: add subordinate ID ranges for your user (as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $USER)", err)
	case strings.Contains(msg, "http: server gave HTTP response to HTTPS client"):
		return fmt.Errorf("%w\nhint: the registry speaks plain http: pass --tls-verify=false", err)
	}
	return err
}
