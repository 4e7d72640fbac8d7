package main

import (
	"fmt"
	"strings"

	"github.com/polyarch/polyarch/index"
	"github.com/urfave/cli/v2"
	"go.podman.io/image/v5/types"
)

// pushFlags holds the raw flags of polyarch index push.
type pushFlags struct {
	All        bool
	Format     string
	DigestFile string
	Retry      uint
	Quiet      bool
	Shrink     bool
	comp       *compressionFlags
	sign       *signFlags
	// opts, name and dest are the parsed flags and arguments.
	opts index.PushOptions
	name string
	dest types.ImageReference
}

// newIndexPushCommand returns `polyarch index push`.
func newIndexPushCommand(g *globalOptions) *cli.Command {
	f := &pushFlags{}
	regFlags, reg := newRegistryFlags("")
	compFlags, comp := newCompressionFlags("compress layers (default: gzip for those of local storage, others kept as they are)")
	f.comp = comp
	signFlags, sign := newSignFlags("every image and the index")
	f.sign = sign
	return &cli.Command{
		Name:      "push",
		Usage:     "push an index from local storage, with every image it lists",
		ArgsUsage: "NAME [DESTINATION]",
		Description: "DESTINATION is docker://REG/REPO:TAG, oci:DIR[:TAG], oci-archive:FILE[:TAG] or a bare\n" +
			"REG/REPO:TAG (a registry); default: NAME in its registry. To a registry, every blob is pushed\n" +
			"first, then each image manifest by digest, then the index under the tag.",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "all", Value: true, Usage: "push every image of the index (only true is supported)", Destination: &f.All},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "manifest `FORMAT`: oci or v2s2 (Docker manifest list) (default: the index's own; a Docker manifest list of Docker images stays one)", Destination: &f.Format},
			&cli.StringFlag{Name: "digestfile", Usage: "write the pushed index's digest to `FILE`", Destination: &f.DigestFile},
			&cli.UintFlag{Name: "retry", Value: index.DefaultRetry, Usage: "retry a push failing for a transient cause `N` times, with backoff", Destination: &f.Retry},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print no progress, only the digest", Destination: &f.Quiet},
			&cli.BoolFlag{Name: "allow-shrink", Usage: "let the index replace a published tag that lists platforms it lacks (refused by default)", Destination: &f.Shrink},
		}, append(append(compFlags, regFlags...), signFlags...)...),
		Action: indexAction{min: 1, max: 2, reg: reg, check: func(args []string) error { return f.parse(args, g) },
			run: func(c *cli.Context, l *localStore, _ []string) error {
				d, err := index.Push(c.Context, l.store, l.sys, f.name, f.dest, f.opts)
				if err != nil {
					return err
				}
				fmt.Fprintln(g.Stdout, d)
				return nil
			}}.action(g),
	}
}

// parse validates the flags and arguments into f.opts, f.name and
// f.dest (NAME in its registry by default).
func (f *pushFlags) parse(args []string, g *globalOptions) error {
	if !f.All {
		return fmt.Errorf("--all=false is not supported: polyarch index push always pushes every image of the index")
	}
	if f.Format != "" && f.Format != index.FormatOCI && f.Format != index.FormatV2S2 {
		return fmt.Errorf("invalid --format %q: use %s or %s", f.Format, index.FormatOCI, index.FormatV2S2)
	}
	retry := f.Retry
	f.opts = index.PushOptions{Format: f.Format, DigestFile: f.DigestFile, Retry: &retry, Compression: f.comp.options(), AllowShrink: f.Shrink, Sign: f.sign.options()}
	if err := f.opts.Validate(); err != nil {
		return err
	}
	if !f.Quiet {
		f.opts.ReportWriter = g.Stderr
	}
	f.name = args[0]
	dest := ""
	if len(args) == 2 {
		dest = args[1]
	} else {
		name, err := index.NormalizeName(args[0])
		if err != nil {
			return err
		}
		if strings.HasPrefix(name, "localhost/") {
			return fmt.Errorf("%s names no registry: give a DESTINATION such as docker://REGISTRY/REPO:TAG or oci:DIR", name)
		}
		dest = name
	}
	ref, err := index.ParseReference(dest, nil)
	f.dest = ref
	return err
}
