package main

import (
	"fmt"
	"io"

	"github.com/polyarch/polyarch/images"
	"github.com/urfave/cli/v2"
)

// newRmiCommand returns `polyarch rmi`.
func newRmiCommand(g *globalOptions) *cli.Command {
	var o images.RemoveOptions
	return &cli.Command{
		Name:      "rmi",
		Usage:     "remove images and indexes from local storage",
		ArgsUsage: "NAME...",
		Description: "As podman rmi: a NAME that is one of several names of an image is only untagged; untagged\n" +
			"parent images nothing else uses go with the image. An index NAME removes the index; with\n" +
			"--all, also its platform images, except those another name holds (a name of their own,\n" +
			"another index, images built on them).",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "also remove the platform images of an index that no other name holds", Destination: &o.All},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "also remove containers using the images; remove an image named by ID despite several names", Destination: &o.Force},
		},
		Action: storeAction{name: "rmi", min: 1, max: -1, run: func(c *cli.Context, l *localStore, args []string) error {
			o.SystemContext = l.sys
			removed, err := images.Remove(c.Context, l.store, args, o)
			printRemoved(g.Stdout, removed)
			return err
		}}.action(g),
	}
}

// printRemoved writes "Untagged: NAME" and "Deleted: ID" lines, as podman
// rmi does.
func printRemoved(w io.Writer, removed []images.Removed) {
	for _, r := range removed {
		for _, n := range r.Untagged {
			fmt.Fprintf(w, "Untagged: %s\n", n)
		}
		if r.Removed {
			fmt.Fprintf(w, "Deleted: %s\n", r.ID)
		}
	}
}
