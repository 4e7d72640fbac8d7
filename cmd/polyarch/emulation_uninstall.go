package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/polyarch/polyarch/emulation"
	"github.com/urfave/cli/v2"
)

// newEmulationUninstallCommand returns `polyarch emulation uninstall`.
func newEmulationUninstallCommand(g *globalOptions) *cli.Command {
	return &cli.Command{
		Name:      "uninstall",
		Usage:     "remove polyarch's qemu handlers from the host's binfmt_misc, and its binfmt.d files, as root",
		ArgsUsage: "PLATFORM...|all",
		Description: "Removes only the handlers polyarch registered: named qemu-<target> for the given platforms,\n" +
			"with flags PF and a qemu-<target>-static interpreter. Others of that name, such as those\n" +
			"Debian's qemu-user-static registers (flags POF), are kept and reported with how to remove\n" +
			"them; handlers of other programs, such as python3.11 or llvm, are never touched. Also removes\n" +
			"the " + emulation.DefaultConfDir + "/polyarch-qemu-*.conf files that `install --persist` wrote.\n" +
			"arm/v5, v6 and v7 share one handler, qemu-arm. Exits non-zero if any platform failed.",
		Action: func(c *cli.Context) error {
			ps, err := platformArgs(c, false)
			if err != nil {
				return cli.Exit(err.Error(), 125)
			}
			if err := g.parsed(); err != nil {
				return err
			}
			if err := emulation.RequireHostAdmin(commandLine(c)); err != nil {
				return err
			}
			res, err := emulation.Uninstall(emulation.UninstallOptions{Platforms: ps})
			printUninstall(g.Stdout, res)
			return failures("uninstalling emulation", len(res), err)
		},
	}
}

// printUninstall writes one line per platform, then a note per kept
// handler.
func printUninstall(w io.Writer, res []emulation.UninstallResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PLATFORM\tRESULT\tHANDLER\tREMOVED FILE")
	var notes []string
	for _, r := range res {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", emulation.FormatPlatform(r.Platform), resultWord(string(r.Status)),
			orDash(r.Handler), orDash(r.Conf))
		if r.Note != "" && !slices.Contains(notes, r.Note) { // arm variants share one handler
			notes = append(notes, r.Note)
		}
	}
	_ = tw.Flush()
	if len(notes) > 0 {
		fmt.Fprintf(w, "kept:\n  %s\n", strings.Join(notes, "\n  "))
	}
}
