package main

import (
	"github.com/polyarch/polyarch/index"
	"github.com/urfave/cli/v2"
)

// compressionFlags holds --compression-format and --compression-level,
// shared by build, copy and index push.
type compressionFlags struct {
	format string
	level  *int
}

// newCompressionFlags returns the flags and the values they fill;
// formatUsage says what the default is for this command.
func newCompressionFlags(formatUsage string) ([]cli.Flag, *compressionFlags) {
	f := &compressionFlags{}
	return []cli.Flag{
		&cli.StringFlag{Name: "compression-format", Usage: formatUsage, Destination: &f.format},
		&cli.IntFlag{Name: "compression-level", Usage: "compression `LEVEL`: gzip 0-9, zstd 1-22 (default: the format's)",
			Action: func(_ *cli.Context, n int) error { f.level = &n; return nil }},
	}, f
}

// options returns the compression asked for; validation is left to the
// library options' Validate, which names the flags.
func (f *compressionFlags) options() index.Compression {
	return index.Compression{Format: f.format, Level: f.level}
}
