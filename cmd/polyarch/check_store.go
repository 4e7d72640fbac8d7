package main

import (
	"github.com/polyarch/polyarch/builder"
	"github.com/urfave/cli/v2"
)

// newCheckStoreCommand returns the hidden `polyarch check-store`, which
// runs containers/storage's Check on local storage (the tests use it to
// prove a failed build left the store sound).
func newCheckStoreCommand(g *globalOptions) *cli.Command {
	return &cli.Command{
		Name:   "check-store",
		Usage:  "report what containers/storage's Check finds wrong in local storage (exit 1 if anything)",
		Hidden: true,
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return cli.Exit("polyarch check-store takes no arguments", 125)
			}
			if err := g.parsed(); err != nil {
				return err
			}
			l, err := openLocal(c, g, nil)
			if err != nil {
				return err
			}
			defer l.close()
			return builder.CheckStore(l.store, g.Stdout)
		},
	}
}
