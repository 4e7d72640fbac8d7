package main

import (
	"github.com/polyarch/polyarch/images"
	"github.com/urfave/cli/v2"
)

// newTagCommand returns `polyarch tag`.
func newTagCommand(g *globalOptions) *cli.Command {
	return &cli.Command{
		Name:      "tag",
		Usage:     "add names to an image or index in local storage",
		ArgsUsage: "SOURCE TARGET...",
		Description: "As podman tag: app:1 is localhost/app:1, a name without tag gets :latest, and a name that\n" +
			"another image held moves to SOURCE. An index SOURCE is tagged itself, not its platform images.",
		Action: storeAction{name: "tag", min: 2, max: -1, run: func(c *cli.Context, l *localStore, args []string) error {
			return images.Tag(c.Context, l.store, l.sys, args[0], args[1:])
		}}.action(g),
	}
}
