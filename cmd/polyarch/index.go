package main

import (
	"fmt"
	"io"

	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"github.com/polyarch/polyarch/session"
	"github.com/urfave/cli/v2"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// newIndexCommand returns `polyarch index` and its subcommands, which
// work on image indexes kept in local storage (podman's manifest lists).
func newIndexCommand(g *globalOptions) *cli.Command {
	return &cli.Command{
		Name:  "index",
		Usage: "create, edit, inspect and push image indexes kept in local storage",
		Description: "An index NAME lives in local containers-storage, as with `podman manifest`: podman sees it.\n" +
			"Sources and destinations are docker://REG/REPO:TAG, oci:DIR[:TAG], oci-archive:FILE[:TAG],\n" +
			"containers-storage:NAME, or a bare name (local storage, else its registry).",
		Subcommands: []*cli.Command{
			newIndexCreateCommand(g),
			newIndexAddCommand(g),
			newIndexRmCommand(g),
			newIndexAnnotateCommand(g),
			newIndexPushCommand(g),
			newIndexInspectCommand(g),
		},
	}
}

// localStore is local storage opened for one index command.
type localStore struct {
	store storage.Store
	sys   *types.SystemContext
}

// openLocal opens the store the global flags select; reg may be nil.
// Not as root, it returns first the *session.Reexec that enters a user
// namespace, as podman does (session.StorageNamespace).
func openLocal(c *cli.Context, g *globalOptions, reg *registryFlags) (*localStore, error) {
	re, err := session.StorageNamespace()
	if re != nil {
		return nil, re
	}
	if err != nil {
		return nil, err
	}
	sc, err := session.ResolveStore(g.storeOptions())
	if err != nil {
		return nil, err
	}
	store, err := session.OpenStore(sc, nil)
	if err != nil {
		return nil, err
	}
	var ro index.RegistryOptions
	if reg != nil {
		ro = reg.options(c)
	}
	sys, err := index.StoreSystemContext(store, ro)
	if err != nil {
		_, _ = store.Shutdown(false)
		return nil, err
	}
	return &localStore{store: store, sys: sys}, nil
}

// close releases the store.
func (l *localStore) close() {
	_, _ = l.store.Shutdown(false)
}

// sources parses the source references of create and add.
func (l *localStore) sources(args []string) ([]types.ImageReference, error) {
	var out []types.ImageReference
	for _, a := range args {
		ref, err := index.ParseReference(a, l.store)
		if err != nil {
			return nil, err
		}
		out = append(out, ref)
	}
	return out, nil
}

// indexAction describes the action of an index subcommand.
type indexAction struct {
	// min and max bound the number of positional arguments; max < 0: no limit.
	min, max int
	// reg are the registry flags, nil for commands that reach no registry.
	reg *registryFlags
	// check validates flags and arguments before any work; its error is
	// a usage error (exit 125). Optional.
	check func(args []string) error
	// run does the work with local storage open.
	run func(c *cli.Context, l *localStore, args []string) error
}

// action returns the cli action: the arguments are counted and checked,
// local storage is opened, and run runs. (Flags after the arguments were
// moved in front of them by permuteArgs.)
func (a indexAction) action(g *globalOptions) cli.ActionFunc {
	return func(c *cli.Context) error {
		args := c.Args().Slice()
		if n := len(args); n < a.min || (a.max >= 0 && n > a.max) {
			return cli.Exit(fmt.Sprintf("polyarch index %s takes %s, got %d\nusage: polyarch index %s %s",
				c.Command.Name, argCount(a.min, a.max), n, c.Command.Name, c.Command.ArgsUsage), 125)
		}
		if a.check != nil {
			if err := a.check(args); err != nil {
				return cli.Exit(err.Error(), 125)
			}
		}
		if err := g.parsed(); err != nil {
			return err
		}
		l, err := openLocal(c, g, a.reg)
		if err != nil {
			return err
		}
		defer l.close()
		return a.run(c, l, args)
	}
}

// argCount says how many arguments a command takes.
func argCount(min, max int) string {
	switch {
	case max == 0:
		return "no arguments"
	case max < 0:
		return fmt.Sprintf("at least %d arguments", min)
	case min == max:
		return fmt.Sprintf("%d arguments", min)
	}
	return fmt.Sprintf("%d to %d arguments", min, max)
}

// printList writes the index ID to stdout and, unless quiet, its entries
// to stderr.
func printList(g *globalOptions, l *index.List, quiet bool) {
	if !quiet {
		printEntries(g.Stderr, l)
	}
	fmt.Fprintln(g.Stdout, l.ID)
}

// printEntries writes one line per entry: "[linux/amd64] sha256:...".
func printEntries(w io.Writer, l *index.List) {
	for _, e := range l.Entries {
		p := "no platform"
		if e.Platform.OS != "" {
			p = emulation.FormatPlatform(e.Platform)
		}
		fmt.Fprintf(w, "[%s] %s\n", p, e.Digest)
	}
}
