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

// compressionFormats lists the values of --compression-format, for help.
const compressionFormats = index.Gzip + ", " + index.Zstd + " or " + index.ZstdChunked

// newCompressionFlags returns the flags and the values they fill; what
// says what --compression-format compresses and its default.
func newCompressionFlags(what string) ([]cli.Flag, *compressionFlags) {
	f := &compressionFlags{}
	return []cli.Flag{
		&cli.StringFlag{Name: "compression-format", Usage: what + ": `FORMAT` " + compressionFormats, Destination: &f.format},
		&cli.IntFlag{Name: "compression-level", Usage: "compression `LEVEL`: gzip 0-9, zstd 1-22", DefaultText: "the format's",
			Action: func(_ *cli.Context, n int) error { f.level = &n; return nil }},
	}, f
}

// options returns the compression asked for; validation is left to the
// library options' Validate, which names the flags.
func (f *compressionFlags) options() index.Compression {
	return index.Compression{Format: f.format, Level: f.level}
}
