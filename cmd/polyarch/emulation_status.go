package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/polyarch/polyarch/emulation"
	"github.com/urfave/cli/v2"
)

// newEmulationStatusCommand returns `polyarch emulation status`.
func newEmulationStatusCommand(g *globalOptions) *cli.Command {
	var format, qemuDir string
	return &cli.Command{
		Name:  "status",
		Usage: "show, per platform, the qemu interpreter, where its handler is registered and whether it runs",
		Description: "Reads the host's binfmt_misc and runs a tiny program of each platform there. Then, when\n" +
			"private mode is available, it does what a build does in its own user and mount namespace\n" +
			"(mount a private binfmt_misc, re-register the host's handlers but qemu ones lacking flag P\n" +
			"or F, register missing ones, run each program again) and reports that too. The host's\n" +
			"binfmt_misc is never changed.\n\n" +
			"REGISTERED is native, host (a host handler serves it, in every mode), private (a build\n" +
			"registers one in its own namespace) or none. HOST and PRIVATE are the probe results.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "table", Usage: "output `FORMAT`: table or json", Destination: &format},
			qemuDirFlag(&qemuDir),
		},
		Action: func(c *cli.Context) error {
			if format != "table" && format != "json" {
				return cli.Exit(fmt.Sprintf("invalid --format %q: use table or json", format), 125)
			}
			if c.NArg() > 0 {
				return cli.Exit(fmt.Sprintf("polyarch emulation status takes no arguments, got %q", c.Args().Slice()), 125)
			}
			if err := g.parsed(); err != nil {
				return err
			}
			r, err := emulation.Status(c.Context, emulation.StatusOptions{QEMUDir: qemuDir})
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(g.Stdout, r)
			}
			printStatus(g.Stdout, r)
			return nil
		},
	}
}

// printStatus writes the report as a table followed by notes.
func printStatus(w io.Writer, r *emulation.Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PLATFORM\tINTERPRETER\tREGISTERED\tHANDLER\tFLAGS\tHOST\tPRIVATE")
	for _, p := range r.Platforms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Platform, orDash(p.Interpreter), p.Registered,
			orDash(p.Handler), orDash(p.Flags), p.HostProbe, p.PrivateProbe)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintf(w, "host binfmt_misc: %s\n", hostLine(r.Host))
	fmt.Fprintf(w, "private mode: %s\n", privateLine(r.Private))
	fmt.Fprintf(w, "builds can run: %s\n", orNone(r.Supported))
	var problems []string
	for _, p := range r.Platforms {
		if p.Problem != "" {
			problems = append(problems, fmt.Sprintf("  %s: %s", p.Platform, p.Problem))
		}
	}
	if len(problems) > 0 {
		fmt.Fprintf(w, "problems:\n%s\n", strings.Join(problems, "\n"))
	}
}

// hostLine describes the host's binfmt_misc in one line.
func hostLine(h emulation.HostReport) string {
	switch {
	case h.Error != "":
		return h.Error
	case !h.Mounted:
		return fmt.Sprintf("not mounted at %s (builds use private mode; `sudo polyarch emulation install` "+
			"mounts it and registers host handlers)", h.MountPoint)
	}
	names := make([]string, len(h.Handlers))
	for i, hd := range h.Handlers {
		names[i] = hd.Name
	}
	return fmt.Sprintf("mounted at %s, handlers: %s", h.MountPoint, orNone(names))
}

// privateLine describes private mode in one line.
func privateLine(p emulation.PrivateReport) string {
	switch {
	case !p.Supported:
		return "not available: " + p.Reason
	case !p.Checked:
		return "supported, but checking it failed: " + p.Error
	}
	s := "supported; checked in polyarch's own user and mount namespace, as builds run"
	if len(p.Reregistered) > 0 {
		s += "; host handlers re-registered there: " + strings.Join(p.Reregistered, ", ")
	}
	if len(p.Skipped) > 0 {
		skipped := make([]string, len(p.Skipped))
		for i, sk := range p.Skipped {
			skipped[i] = fmt.Sprintf("%s (%s)", sk.Handler.Name, sk.Reason)
		}
		s += "; host handlers left out as unfit for builds, replaced there by polyarch's: " + strings.Join(skipped, ", ")
	}
	if p.Error != "" {
		s += "; warning: " + p.Error
	}
	return s
}

// orNone joins names, or says none.
func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
