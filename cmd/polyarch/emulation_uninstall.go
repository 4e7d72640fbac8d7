package main

import (
	"fmt"
	"io"
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
		Description: "Removes only the handlers named qemu-<target> for the given platforms (other handlers, such\n" +
			"as python3.11 or llvm, are never touched) and the " + emulation.DefaultConfDir + "/polyarch-qemu-*.conf files\n" +
			"that `install --persist` wrote. arm/v5, v6 and v7 share one handler, qemu-arm.\n" +
			"Exits non-zero if any platform failed.",
		Action: func(c *cli.Context) error {
			ps, err := platformArgs(c, false)
			if err != nil {
				return cli.Exit(err.Error(), 125)
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

// printUninstall writes one line per platform.
func printUninstall(w io.Writer, res []emulation.UninstallResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PLATFORM\tRESULT\tHANDLER\tREMOVED FILE")
	for _, r := range res {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", emulation.PlatformString(r.Platform), resultWord(string(r.Status)),
			orDash(r.Handler), orDash(r.Conf))
	}
	_ = tw.Flush()
}
