package main

import (
	"encoding/json"
	"fmt"

	"github.com/polyarch/polyarch/index"
	"github.com/urfave/cli/v2"
)

// inspectFlags holds the raw flags of polyarch index inspect.
type inspectFlags struct {
	Raw       bool
	Format    string
	Referrers bool
}

// newIndexInspectCommand returns `polyarch index inspect`.
func newIndexInspectCommand(g *globalOptions) *cli.Command {
	f := &inspectFlags{}
	regFlags, reg := newRegistryFlags("")
	return &cli.Command{
		Name:        "inspect",
		Usage:       "show an index or image: its digest and each platform's manifest",
		ArgsUsage:   "IMAGE",
		Description: imageArgument,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "raw", Usage: "print the manifest exactly as stored", Destination: &f.Raw},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "`FORMAT` of the output: table or json", Destination: &f.Format},
			&cli.BoolFlag{Name: "referrers", Usage: "also list the referrers (provenance and other OCI 1.1 artifacts) of the index and of each entry: from the registry's referrers API or sha256-<hex> referrers tags, or from an oci: layout's index.json", Destination: &f.Referrers},
		}, regFlags...),
		Action: func(c *cli.Context) error {
			if err := f.validate(c); err != nil {
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
			in, err := index.Inspect(c.Context, ref, sys)
			if err != nil {
				return err
			}
			if f.Referrers {
				if in.Referrers, err = index.InspectReferrers(c.Context, ref, sys, in); err != nil {
					return err
				}
			}
			return f.print(g, in)
		},
	}
}

// validate rejects wrong arguments and formats before any work.
func (f *inspectFlags) validate(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("polyarch index inspect takes exactly one IMAGE, got %d arguments", c.NArg())
	}
	if f.Format != "table" && f.Format != "json" {
		return fmt.Errorf("invalid --format %q: use table or json", f.Format)
	}
	if f.Raw && f.Referrers {
		return fmt.Errorf("--raw and --referrers are mutually exclusive: --raw prints the stored bytes")
	}
	if f.Raw && c.IsSet("format") {
		return fmt.Errorf("--raw and --format are mutually exclusive: --raw prints the stored bytes")
	}
	return nil
}

// print writes the inspection in the chosen form to stdout.
func (f *inspectFlags) print(g *globalOptions, in *index.Inspection) error {
	switch {
	case f.Raw:
		_, err := g.Stdout.Write(in.Raw)
		return err
	case f.Format == "json":
		enc := json.NewEncoder(g.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(in)
	}
	if err := in.WriteTable(g.Stdout); err != nil || in.Referrers == nil {
		return err
	}
	return index.WriteReferrersTable(g.Stdout, in.Referrers)
}
