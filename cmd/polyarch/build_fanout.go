package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/polyarch/polyarch/builder"
	"github.com/urfave/cli/v2"
)

// buildFanoutFlags are the flags of polyarch build for builds that are
// one node of several, and for what a push may replace.
type buildFanoutFlags struct {
	PushByDigest string
	KeepGoing    bool
	AllowShrink  bool
}

// newBuildFanoutFlags returns the flags and the values they fill.
func newBuildFanoutFlags() ([]cli.Flag, *buildFanoutFlags) {
	x := &buildFanoutFlags{}
	return []cli.Flag{
		&cli.StringFlag{Name: "push-by-digest", Usage: "push the result untagged to `REG/REPO`: blobs, then each platform's manifest by digest (and the index, by digest, for several); --metadata-file names it REG/REPO@DIGEST for `polyarch index create --from-metadata`", Destination: &x.PushByDigest},
		&cli.BoolFlag{Name: "keep-going", Usage: fmt.Sprintf("when a platform fails, finish and publish the others, print a per-platform report and exit %d", builder.ExitPartial), Destination: &x.KeepGoing},
		&cli.BoolFlag{Name: "allow-shrink", Usage: "let --push replace a published tag that lists platforms this build lacks (refused by default)", Destination: &x.AllowShrink},
	}, x
}

// apply sets the flags in opts.
func (x *buildFanoutFlags) apply(opts *builder.Options) {
	opts.Fanout = builder.FanoutOptions{PushByDigest: x.PushByDigest, KeepGoing: x.KeepGoing, AllowShrink: x.AllowShrink}
}

// buildOutcome prints the per-platform report of a --keep-going build
// to w and turns a partial success into exit status builder.ExitPartial.
func buildOutcome(w io.Writer, res *builder.Result, err error) error {
	var partial *builder.PartialError
	switch {
	case errors.As(err, &partial):
		printReport(w, partial.Report)
		if partial.Published {
			return cli.Exit(err.Error(), builder.ExitPartial)
		}
	case res != nil && len(res.Report) > 0:
		printReport(w, res.Report)
	}
	return err
}

// printReport writes one line per platform: ok, or failed with the step
// and the error.
func printReport(w io.Writer, report []builder.PlatformReport) {
	fmt.Fprintln(w, "platform report:")
	for _, r := range report {
		switch {
		case r.Status == builder.StatusOK:
			fmt.Fprintf(w, "  %-16s ok\n", r.Platform)
		case r.Step != "":
			fmt.Fprintf(w, "  %-16s failed at %s: %s\n", r.Platform, r.Step, r.Error)
		default:
			fmt.Fprintf(w, "  %-16s failed: %s\n", r.Platform, r.Error)
		}
	}
}
