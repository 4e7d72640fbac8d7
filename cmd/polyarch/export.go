package main

import (
	"fmt"

	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"github.com/urfave/cli/v2"
)

// exportFlags holds the raw flags of polyarch export.
type exportFlags struct {
	Platforms cli.StringSlice
	Output    string
	Quiet     bool
}

// newExportCommand returns `polyarch export`.
func newExportCommand(g *globalOptions) *cli.Command {
	f := &exportFlags{}
	regFlags, reg := newRegistryFlags("")
	return &cli.Command{
		Name:      "export",
		Usage:     "write one platform's image (or each platform's) for scanners: OCI layout, docker-archive or flattened rootfs tar",
		ArgsUsage: "IMAGE",
		Description: imageArgument + "\n" +
			"-o type=oci,dest=DIR writes an OCI layout; type=docker-archive,dest=FILE a tar that podman load,\n" +
			"trivy and grype read; type=tar,dest=FILE the flattened root filesystem (layers applied, whiteouts\n" +
			"honoured). With --platform all (or several), each platform goes to its own output, the platform\n" +
			"added to the name: out.tar becomes out-linux-arm64.tar. Each output appears complete or not at all.",
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "platform", Usage: "export `OS/ARCH[/VARIANT]` (comma list or repeated), or all", Destination: &f.Platforms},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "`type=TYPE,dest=PATH`: type oci, docker-archive or tar", Destination: &f.Output},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print no progress, only the paths written", Destination: &f.Quiet},
		}, regFlags...),
		Action: func(c *cli.Context) error {
			opts, err := f.options(c, g)
			if err != nil {
				return cli.Exit(err.Error(), 125)
			}
			if err := g.parsed(); err != nil {
				return err
			}
			ref, sys, closeImage, err := openImage(g, c.Args().First(), reg.options(c))
			if err != nil {
				return err
			}
			defer closeImage()
			opts.SourceCtx = sys
			outs, err := index.ExportImage(c.Context, ref, opts)
			if err != nil {
				return err
			}
			for _, out := range outs {
				fmt.Fprintf(g.Stdout, "%s\t%s\n", emulation.FormatPlatform(out.Platform), out.Dest)
			}
			return nil
		},
	}
}

// options validates the arguments and flags into export options.
func (f *exportFlags) options(c *cli.Context, g *globalOptions) (index.ImageExportOptions, error) {
	var o index.ImageExportOptions
	if c.NArg() != 1 {
		return o, fmt.Errorf("polyarch export takes one IMAGE, got %d arguments", c.NArg())
	}
	if err := index.ParseExportOutput(f.Output, &o); err != nil {
		return o, err
	}
	if p := f.Platforms.Value(); len(p) == 1 && p[0] == "all" {
		o.All = true
	} else if len(p) > 0 {
		platforms, err := emulation.ParsePlatforms(p)
		if err != nil {
			return o, err
		}
		o.Platforms = platforms
	}
	if !f.Quiet {
		o.ReportWriter = g.Stderr
	}
	return o, o.Validate()
}
