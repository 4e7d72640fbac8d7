package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/docker/go-units"
	"github.com/polyarch/polyarch/images"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// pruneConfirmedEnv tells the polyarch re-executed in its user namespace
// that the user has confirmed the prune already.
const pruneConfirmedEnv = "_POLYARCH_PRUNE_CONFIRMED"

// newPruneCommand returns `polyarch prune`.
func newPruneCommand(g *globalOptions) *cli.Command {
	var o images.PruneOptions
	var force bool
	return &cli.Command{
		Name:  "prune",
		Usage: "remove dangling images, leftover build containers and damaged layers from local storage",
		Description: "Removes the working containers of buildah (and polyarch) builds, which a killed build leaves\n" +
			"(it refuses to run while a polyarch build uses the store); the dangling images (untagged, nothing built\n" +
			"on them, in no index; with --all, every image no container uses); and what containers/storage's\n" +
			"Check reports as damaged or incomplete. Asks first on a terminal; elsewhere pass --force.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove every image no container uses, not only dangling ones", Destination: &o.All},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not ask for confirmation", Destination: &force},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return cli.Exit(fmt.Sprintf("polyarch prune takes no arguments, got %d", c.NArg()), 125)
			}
			if err := g.parsed(); err != nil {
				return err
			}
			if !force && os.Getenv(pruneConfirmedEnv) != "1" {
				if !term.IsTerminal(int(os.Stdin.Fd())) {
					return cli.Exit("polyarch prune asks for confirmation and there is no terminal to ask on: pass --force", 125)
				}
				if !confirmPrune(g.Stderr, os.Stdin, o.All) {
					return nil
				}
				// Asked here, before polyarch re-executes itself in its
				// user namespace, where it runs in a process group of its
				// own that may not read the terminal.
				_ = os.Setenv(pruneConfirmedEnv, "1")
			}
			l, err := openLocal(c, g, nil)
			if err != nil {
				return err
			}
			defer l.close()
			o.SystemContext = l.sys
			rep, err := images.Prune(c.Context, l.store, o)
			if rep != nil {
				printPruned(g.Stdout, rep)
			}
			return err
		},
	}
}

// confirmPrune asks on w and reads y or yes from r, as podman image prune.
func confirmPrune(w io.Writer, r io.Reader, all bool) bool {
	what := "dangling images"
	if all {
		what = "all images without at least one container associated to them"
	}
	fmt.Fprintf(w, "WARNING! This command removes:\n  - %s\n  - build containers left by buildah and polyarch, and directories of containers with no record\n  - damaged or incomplete layers\nAre you sure you want to continue? [y/N] ", what)
	answer, _ := bufio.NewReader(r).ReadString('\n')
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "y" || answer == "yes"
}

// printPruned writes what was removed and the space reclaimed.
func printPruned(w io.Writer, rep *images.PruneReport) {
	for _, id := range rep.Containers {
		fmt.Fprintf(w, "Deleted build container: %s\n", id)
	}
	for _, dir := range rep.OrphanDirs {
		fmt.Fprintf(w, "Deleted directory of a container with no record: %s\n", dir)
	}
	printRemoved(w, rep.Images)
	for _, dir := range rep.RunDirs {
		fmt.Fprintf(w, "Removed the run directory of a dead build: %s\n", dir)
	}
	for _, id := range rep.Repaired {
		fmt.Fprintf(w, "Repaired (removed damaged): %s\n", id)
	}
	if rep.BuildKeys > 0 {
		fmt.Fprintf(w, "Removed %d build cache key(s) of removed images\n", rep.BuildKeys)
	}
	fmt.Fprintf(w, "Total reclaimed space: %s\n", units.HumanSizeWithPrecision(float64(rep.Size), 3))
}
