package main

import (
	"fmt"
	"io"

	"github.com/polyarch/polyarch/builder"
	"github.com/urfave/cli/v2"
)

// buildProgressFlags is how polyarch build shows its progress.
type buildProgressFlags struct {
	Progress string
}

// newBuildProgressFlags returns the --progress flag and its value.
func newBuildProgressFlags() ([]cli.Flag, *buildProgressFlags) {
	f := &buildProgressFlags{}
	return []cli.Flag{
		&cli.StringFlag{Name: "progress", Value: "auto", Usage: "`MODE`: auto (a live status line per platform on a terminal, else plain), plain (every output line prefixed with its platform) or quiet (only the result, as -q)", EnvVars: []string{"POLYARCH_PROGRESS"}, Destination: &f.Progress},
	}, f
}

// apply sets the progress mode; -q is --progress quiet, and contradicts
// any other explicit mode.
func (f *buildProgressFlags) apply(c *cli.Context, opts *builder.Options) error {
	m, err := builder.ParseProgress(f.Progress)
	if err != nil {
		return err
	}
	if opts.Quiet && c.IsSet("progress") && m != builder.ProgressQuiet {
		return fmt.Errorf("-q/--quiet contradicts --progress %s: use one of them", m)
	}
	opts.Progress = m
	opts.Quiet = opts.Quiet || m == builder.ProgressQuiet
	return nil
}

// printSummary writes the per-platform summary table of a finished build.
func printSummary(w io.Writer, res *builder.Result) {
	var sums []builder.PlatformSummary
	for _, img := range res.Images {
		if img.Summary != nil {
			sums = append(sums, *img.Summary)
		}
	}
	builder.WriteSummary(w, sums)
}
