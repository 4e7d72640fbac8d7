package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/polyarch/polyarch/emulation"
	"github.com/urfave/cli/v2"
)

// newEmulationInstallCommand returns `polyarch emulation install`.
func newEmulationInstallCommand(g *globalOptions) *cli.Command {
	var persist bool
	var qemuDir string
	return &cli.Command{
		Name:      "install",
		Usage:     "register qemu-user-static handlers (flags PF) in the host's binfmt_misc, as root",
		ArgsUsage: "[PLATFORM...|all]",
		Description: "Mounts binfmt_misc at " + emulation.DefaultMountPoint + " if needed, keeps every handler that\n" +
			"already works, registers the missing ones and runs a tiny program of each platform. A\n" +
			"handler that lacks flag P or F, or fails, is reported with the fix and left alone.\n" +
			"Without arguments: all platforms. Exits non-zero if any platform failed.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "persist", Usage: "also write " + emulation.DefaultConfDir + "/polyarch-qemu-*.conf so systemd-binfmt registers them at boot", Destination: &persist},
			qemuDirFlag(&qemuDir),
		},
		Action: func(c *cli.Context) error {
			ps, err := platformArgs(c, true)
			if err != nil {
				return cli.Exit(err.Error(), 125)
			}
			if err := g.parsed(); err != nil {
				return err
			}
			if err := emulation.RequireHostAdmin(commandLine(c)); err != nil {
				return err
			}
			mounted, err := emulation.MountHost(emulation.DefaultMountPoint)
			if err != nil {
				return err
			}
			if mounted {
				fmt.Fprintf(g.Stderr, "mounted binfmt_misc at %s\n", emulation.DefaultMountPoint)
			}
			res, err := emulation.Install(c.Context, emulation.InstallOptions{Platforms: ps, QEMUDir: qemuDir, Persist: persist})
			printInstall(g.Stdout, res, persist)
			return failures("installing emulation", len(res), err)
		},
	}
}

// printInstall writes one line per platform.
func printInstall(w io.Writer, res []emulation.InstallResult, persist bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "PLATFORM\tRESULT\tHANDLER\tINTERPRETER\tFLAGS"
	if persist {
		header += "\tPERSISTED BY"
	}
	fmt.Fprintln(tw, header)
	for _, r := range res {
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", emulation.FormatPlatform(r.Platform), resultWord(string(r.Status)),
			orDash(r.Handler), orDash(r.Interpreter), orDash(r.Flags))
		if persist {
			line += "\t" + orDash(r.Persisted)
		}
		fmt.Fprintln(tw, line)
	}
	_ = tw.Flush()
}
