package main

import (
	"github.com/polyarch/polyarch/index"
	"github.com/urfave/cli/v2"
)

// newIndexRmCommand returns `polyarch index rm`.
func newIndexRmCommand(g *globalOptions) *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Aliases:   []string{"remove"},
		Usage:     "remove an entry, named by digest or platform, from an index in local storage",
		ArgsUsage: "NAME DIGEST|PLATFORM",
		Action: indexAction{min: 2, max: 2, run: func(c *cli.Context, l *localStore, args []string) error {
			res, err := index.Remove(l.store, args[0], args[1])
			if err != nil {
				return err
			}
			printList(g, res, true)
			return nil
		}}.action(g),
	}
}
