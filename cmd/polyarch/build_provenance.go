package main

import (
	"github.com/polyarch/polyarch/builder"
	"github.com/urfave/cli/v2"
)

// provenanceFlag is --provenance of polyarch build: unset, true or false.
type provenanceFlag struct {
	Value bool
}

// newProvenanceFlag returns the flag and the value it fills.
func newProvenanceFlag() (cli.Flag, *provenanceFlag) {
	x := &provenanceFlag{}
	return &cli.BoolFlag{
		Name:        "provenance",
		Usage:       "attach SLSA v1 provenance (an in-toto statement stored as an OCI 1.1 referrer) to every platform manifest and to the index; default: on for --push and --push-by-digest, off for -o type=oci layouts (set it to write them there too); --provenance=false attaches none",
		Destination: &x.Value,
	}, x
}

// apply sets the choice, if made, and polyarch's version in opts.
func (x *provenanceFlag) apply(c *cli.Context, opts *builder.Options) {
	opts.Provenance.BuilderVersion = version
	if c.IsSet("provenance") {
		v := x.Value
		opts.Provenance.Enabled = &v
	}
}
