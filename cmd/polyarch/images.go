package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/polyarch/polyarch/images"
	"github.com/urfave/cli/v2"
)

// newImagesCommand returns `polyarch images`.
func newImagesCommand(g *globalOptions) *cli.Command {
	var all bool
	var format string
	return &cli.Command{
		Name:  "images",
		Usage: "list the images and indexes in local storage, with their platforms",
		Description: "One row per name: an index (podman's manifest list) with the platforms of its entries, an image\n" +
			"with its own. Hidden unless --all: intermediate images (the layer cache of builds) and the\n" +
			"untagged platform images of an index. Untagged images nothing uses (dangling) are shown as\n" +
			"<none>: polyarch prune removes them.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "also list intermediate images and the platform images of indexes", Destination: &all},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "`FORMAT`: table or json", Destination: &format},
		},
		Action: storeAction{name: "images", max: 0, check: func([]string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("invalid --format %q: use table or json", format)
			}
			return nil
		}, run: func(c *cli.Context, l *localStore, _ []string) error {
			imgs, err := images.List(c.Context, l.store, images.ListOptions{All: all, SystemContext: l.sys})
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(g.Stdout)
				enc.SetIndent("", "  ")
				if imgs == nil {
					imgs = []images.Image{}
				}
				return enc.Encode(imgs)
			}
			return images.WriteTable(g.Stdout, imgs, time.Now())
		}}.action(g),
	}
}

// storeAction is indexAction for the top-level commands on local storage
// (images, rmi, prune, tag): arguments counted and checked, the store
// opened (in polyarch's user namespace when rootless), run called.
type storeAction struct {
	name     string
	min, max int
	check    func(args []string) error
	run      func(c *cli.Context, l *localStore, args []string) error
}

// action returns the cli action.
func (a storeAction) action(g *globalOptions) cli.ActionFunc {
	return func(c *cli.Context) error {
		args := c.Args().Slice()
		if n := len(args); n < a.min || (a.max >= 0 && n > a.max) {
			return cli.Exit(fmt.Sprintf("polyarch %s takes %s, got %d\nusage: polyarch %s %s",
				a.name, argCount(a.min, a.max), n, a.name, c.Command.ArgsUsage), 125)
		}
		if a.check != nil {
			if err := a.check(args); err != nil {
				return cli.Exit(err.Error(), 125)
			}
		}
		if err := g.parsed(); err != nil {
			return err
		}
		l, err := openLocal(c, g, nil)
		if err != nil {
			return err
		}
		defer l.close()
		return a.run(c, l, args)
	}
}
