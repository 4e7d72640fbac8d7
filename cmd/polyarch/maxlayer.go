package main

import (
	"fmt"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"
)

// maxLayerSizeFlag is --max-layer-size, a cap on a gzip layer's inflated
// size, filling dest; usage says where it applies.
func maxLayerSizeFlag(dest *string, usage string) cli.Flag {
	return &cli.StringFlag{Name: "max-layer-size", Value: "64GiB", Usage: usage, Destination: dest}
}

// parseMaxLayerSize parses a --max-layer-size value such as 512MiB.
func parseMaxLayerSize(s string) (int64, error) {
	n, err := units.RAMInBytes(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("invalid --max-layer-size %q: give a size such as 512MiB or 64GiB", s)
	}
	return n, nil
}
