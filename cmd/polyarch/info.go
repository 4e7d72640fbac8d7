package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/polyarch/polyarch/builder"
	"github.com/urfave/cli/v2"
)

// newInfoCommand returns `polyarch info`.
func newInfoCommand(g *globalOptions) *cli.Command {
	var format, qemuDir string
	return &cli.Command{
		Name:  "info",
		Usage: "show host, user namespace, storage and emulation facts (for bug reports)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output `FORMAT`: text or json", Destination: &format},
			&cli.StringFlag{Name: "qemu-dir", Usage: "`DIR` holding qemu-*-static interpreters", EnvVars: []string{"POLYARCH_QEMU_DIR"}, Destination: &qemuDir},
		},
		Action: func(c *cli.Context) error {
			if format != "text" && format != "json" {
				return cli.Exit(fmt.Sprintf("invalid --format %q: use text or json", format), 125)
			}
			if err := g.parsed(); err != nil {
				return err
			}
			store := g.storeOptions()
			re, nsErr := builder.EnterNamespace(builder.Options{Store: store})
			if re != nil {
				return re
			}
			r, err := builder.Info(c.Context, store, qemuDir, nsErr)
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(g.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			printInfo(g.Stdout, r)
			return nil
		},
	}
}

// printInfo writes the report as aligned text.
func printInfo(w io.Writer, r *builder.InfoReport) {
	h := r.Host
	fmt.Fprintf(w, "host:\n  kernel: %s (%s)\n  rootless: %v (uid %d)\n  user namespaces: %v (max %s), newuidmap: %s\n  uid map: %v\n  gid map: %v\n",
		h.Kernel, h.Arch, h.Rootless, h.UID, h.UserNamespaces, h.MaxUserNamespaces, orDash(h.Newuidmap), h.UIDMap, h.GIDMap)
	if h.SingleMapping {
		fmt.Fprintln(w, "  warning: single uid mapping (no /etc/subuid range): ownership collapses to root")
	}
	s := r.Store
	if s.Error != "" {
		fmt.Fprintf(w, "store:\n  unavailable: %s\n", s.Error)
	} else {
		fmt.Fprintf(w, "store:\n  driver: %s (%s) %v\n  root: %s\n  runroot: %s\n  images: %d\n", s.Driver, s.DriverReason, s.DriverOptions, s.GraphRoot, s.RunRoot, s.ImageCount)
	}
	printIsolation(w, r.Isolation)
	e := r.Emulation
	fmt.Fprintf(w, "emulation:\n  private binfmt_misc: %v %s\n", e.PrivateSupported, e.PrivateReason)
	for _, em := range e.Emulators {
		switch {
		case em.Native:
			fmt.Fprintf(w, "  %-16s native\n", em.Platform)
		case em.Error != "":
			fmt.Fprintf(w, "  %-16s missing: %s\n", em.Platform, em.Error)
		default:
			fmt.Fprintf(w, "  %-16s %s\n", em.Platform, em.Interpreter)
		}
	}
}

// printIsolation writes which isolation builds use, why, and what each
// OCI runtime probe found.
func printIsolation(w io.Writer, in builder.IsolationInfo) {
	fmt.Fprintf(w, "isolation:\n  builds use: %s (%s)\n  --isolation oci: %s\n", in.Default, in.Reason, orDash(in.OCIRuntime))
	for _, t := range in.OCIRuntimes {
		fmt.Fprintf(w, "    %s\n", t)
	}
}

// orDash returns s, or "-" if empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
