package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/polyarch/polyarch/index"
	"github.com/urfave/cli/v2"
	"go.podman.io/image/v5/types"
)

// mergeFlags are the flags of index create that merge straight into a
// registry, as `docker buildx imagetools create` does.
type mergeFlags struct {
	FromMetadata bool
	AllowShrink  bool
	Retry        uint
	// sign signs the merged index and its children.
	sign *signFlags
}

// flags returns the flags filling f.
func (f *mergeFlags) flags() []cli.Flag {
	sign, s := newSignFlags("with a registry NAME: every child and the index, after carrying the children's signatures from where they are read")
	f.sign = s
	return append(sign, []cli.Flag{
		&cli.BoolFlag{Name: "from-metadata", Usage: "SOURCE arguments that are files are --metadata-file outputs of builds (build --push-by-digest); the index is pushed to the registry NAME names", Destination: &f.FromMetadata},
		&cli.BoolFlag{Name: "allow-shrink", Usage: "with a registry NAME: let the index replace a published tag that lists platforms it lacks (refused by default)", Destination: &f.AllowShrink},
		&cli.UintFlag{Name: "retry", Value: index.DefaultRetry, Usage: "with a registry NAME: retry a push failing for a transient cause `N` times, with backoff", Destination: &f.Retry},
	}...)
}

// merging reports whether create writes the registry directly: with
// --from-metadata, or a docker:// NAME.
func (f *mergeFlags) merging(name string) bool {
	return f.FromMetadata || strings.HasPrefix(name, "docker://")
}

// sources parses the merge's SOURCE arguments: metadata files (with
// --from-metadata), else image references (REG/REPO@sha256:..., oci:DIR).
func (f *mergeFlags) sources(args []string) ([]index.MergeSource, error) {
	var out []index.MergeSource
	for _, a := range args {
		if st, err := os.Stat(a); f.FromMetadata && err == nil && st.Mode().IsRegular() {
			srcs, err := index.ReadMetadataFile(a)
			if err != nil {
				return nil, err
			}
			out = append(out, srcs...)
			continue
		}
		ref, err := index.ParseReference(a, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, index.MergeSource{Ref: ref, Origin: a})
	}
	return out, nil
}

// destination parses NAME as a registry tag.
func (f *mergeFlags) destination(name string) (types.ImageReference, error) {
	ref, err := index.ParseReference(name, nil)
	if err != nil {
		return nil, err
	}
	if ref.Transport().Name() != "docker" {
		return nil, fmt.Errorf("--from-metadata pushes to a registry: NAME must be REG/REPO:TAG or docker://REG/REPO:TAG, not %s", name)
	}
	return ref, nil
}

// action merges the sources into NAME's registry and prints the index's
// digest. Usage errors (unreadable metadata, bad names) exit 125 before
// any work.
func (f *mergeFlags) action(c *cli.Context, g *globalOptions, reg *registryFlags, quiet bool) error {
	args := c.Args().Slice()
	if len(args) < 2 {
		return cli.Exit(fmt.Sprintf("polyarch index create takes NAME and at least one SOURCE, got %d arguments\nusage: polyarch index create %s", len(args), c.Command.ArgsUsage), 125)
	}
	dest, err := f.destination(args[0])
	if err != nil {
		return cli.Exit(err.Error(), 125)
	}
	srcs, err := f.sources(args[1:])
	if err != nil {
		return cli.Exit(err.Error(), 125)
	}
	sys, err := index.SystemContext(reg.options(c), "")
	if err != nil {
		return cli.Exit(err.Error(), 125)
	}
	if err := g.parsed(); err != nil {
		return err
	}
	o := index.MergeOptions{AllowShrink: f.AllowShrink, Retry: int(f.Retry), Sign: f.sign.options()}
	if err := index.CheckSigner(o.Sign); err != nil {
		return cli.Exit(err.Error(), 125)
	}
	if !quiet {
		o.ReportWriter = g.Stderr
	}
	d, err := index.Merge(c.Context, sys, dest, srcs, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(g.Stdout, d)
	return nil
}
