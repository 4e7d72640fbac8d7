package main

import (
	"fmt"

	"github.com/polyarch/polyarch/images"
	"github.com/urfave/cli/v2"
	"go.podman.io/image/v5/docker/reference"
)

// newTagCommand returns `polyarch tag`.
func newTagCommand(g *globalOptions) *cli.Command {
	return &cli.Command{
		Name:      "tag",
		Usage:     "add names to an image or index in local storage",
		ArgsUsage: "SOURCE TARGET...",
		Description: "As podman tag: app:1 is localhost/app:1, a name without tag gets :latest, and a name that\n" +
			"another image held moves to SOURCE. An index SOURCE is tagged itself, not its platform images.",
		Action: storeAction{name: "tag", min: 2, max: -1, check: checkTargets, run: func(c *cli.Context, l *localStore, args []string) error {
			return images.Tag(c.Context, l.store, l.sys, args[0], args[1:])
		}}.action(g),
	}
}

// checkTargets rejects a TARGET that is no image name before the store
// is opened.
func checkTargets(args []string) error {
	for _, t := range args[1:] {
		if _, err := reference.ParseNormalizedNamed(t); err != nil {
			return fmt.Errorf("invalid TARGET %q: %v (use [REGISTRY/]REPOSITORY[:TAG], e.g. app:1 or quay.io/you/app:1)", t, err)
		}
	}
	return nil
}
