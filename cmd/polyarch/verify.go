package main

import (
	"encoding/json"
	"fmt"

	"github.com/polyarch/polyarch/verify"
	"github.com/urfave/cli/v2"
)

// verifyFlags holds the raw flags of polyarch verify.
type verifyFlags struct {
	AllFiles bool
	Format   string
}

// newVerifyCommand returns `polyarch verify`.
func newVerifyCommand(g *globalOptions) *cli.Command {
	f := &verifyFlags{}
	regFlags, reg := newRegistryFlags("")
	return &cli.Command{
		Name:      "verify",
		Usage:     "check that every image of an index is built for the platform its labels say",
		ArgsUsage: "IMAGE",
		Description: imageArgument + "\n" +
			"For every index entry: its platform must be its config's; the ELF files of its layers\n" +
			"(in /bin, /sbin, /usr/bin, /usr/sbin, /usr/local/bin, /lib*, /usr/lib*; --all-files for\n" +
			"every file) must have that platform's machine, class, byte order and, for arm, float ABI;\n" +
			"no entry may lack a platform or say unknown/unknown unless annotated as an attestation.\n" +
			"Layers are streamed, whiteouts honoured. Exits 1 when anything does not match.",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "all-files", Usage: "check every file, not only program and library directories", Destination: &f.AllFiles},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "`FORMAT` of the report: table or json", Destination: &f.Format},
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
			rep, err := verify.Image(c.Context, ref, sys, verify.Options{AllFiles: f.AllFiles, Name: c.Args().First()})
			if err != nil {
				return err
			}
			if err := f.print(g, rep); err != nil {
				return err
			}
			if !rep.OK() {
				return cli.Exit(fmt.Sprintf("%s does not match its platform labels", c.Args().First()), 1)
			}
			return nil
		},
	}
}

// validate rejects wrong arguments and formats before any work.
func (f *verifyFlags) validate(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("polyarch verify takes exactly one IMAGE, got %d arguments", c.NArg())
	}
	if f.Format != "table" && f.Format != "json" {
		return fmt.Errorf("invalid --format %q: use table or json", f.Format)
	}
	return nil
}

// print writes the report in the chosen form to stdout.
func (f *verifyFlags) print(g *globalOptions, rep *verify.Report) error {
	if f.Format == "json" {
		enc := json.NewEncoder(g.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			*verify.Report
			OK bool `json:"ok"`
		}{rep, rep.OK()})
	}
	return rep.WriteTable(g.Stdout)
}
