package main

import (
	"github.com/polyarch/polyarch/index"
	"github.com/urfave/cli/v2"
	"go.podman.io/image/v5/types"
)

// newIndexAddCommand returns `polyarch index add`.
func newIndexAddCommand(g *globalOptions) *cli.Command {
	f := &sourceFlags{}
	regFlags, reg := newRegistryFlags("")
	return &cli.Command{
		Name:      "add",
		Usage:     "add images, or platforms of indexes, to an index in local storage",
		ArgsUsage: "NAME SOURCE...",
		Flags:     append(f.flags(), regFlags...),
		Action: f.action(g, reg, func(c *cli.Context, l *localStore, name string, srcs []types.ImageReference) (*index.List, error) {
			return index.Add(c.Context, l.store, l.sys, name, srcs, f.opts)
		}),
	}
}
