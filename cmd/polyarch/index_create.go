package main

import (
	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"github.com/urfave/cli/v2"
	"go.podman.io/image/v5/types"
)

// sourceFlags are the flags choosing what create and add take from
// their sources.
type sourceFlags struct {
	Platforms cli.StringSlice
	Replace   bool
	Quiet     bool
	// opts are the parsed flags.
	opts index.AddOptions
}

// flags returns the flags filling f.
func (f *sourceFlags) flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "platform", Usage: "take only `OS/ARCH[/VARIANT]` from sources that are indexes, comma list or repeated (default: all)", Destination: &f.Platforms},
		&cli.BoolFlag{Name: "replace", Usage: "let a later source's platform replace an earlier one's instead of failing", Destination: &f.Replace},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the index ID", Destination: &f.Quiet},
	}
}

// parse validates the flags into f.opts.
func (f *sourceFlags) parse([]string) error {
	f.opts = index.AddOptions{Replace: f.Replace}
	if len(f.Platforms.Value()) == 0 {
		return nil
	}
	ps, err := emulation.ParsePlatforms(f.Platforms.Value())
	f.opts.Platforms = ps
	return err
}

// addFunc is what create or add does with NAME and the parsed sources.
type addFunc func(c *cli.Context, l *localStore, name string, srcs []types.ImageReference) (*index.List, error)

// action returns the action of create and add: NAME SOURCE..., sources
// parsed against local storage, the resulting index printed.
func (f *sourceFlags) action(g *globalOptions, reg *registryFlags, add addFunc) cli.ActionFunc {
	return indexAction{min: 2, max: -1, reg: reg, check: f.parse, run: func(c *cli.Context, l *localStore, args []string) error {
		srcs, err := l.sources(args[1:])
		if err != nil {
			return cli.Exit(err.Error(), 125)
		}
		res, err := add(c, l, args[0], srcs)
		if err != nil {
			return err
		}
		printList(g, res, f.Quiet)
		return nil
	}}.action(g)
}

// newIndexCreateCommand returns `polyarch index create`.
func newIndexCreateCommand(g *globalOptions) *cli.Command {
	f := &sourceFlags{}
	var amend bool
	regFlags, reg := newRegistryFlags("")
	merge := &mergeFlags{}
	create := f.action(g, reg, func(c *cli.Context, l *localStore, name string, srcs []types.ImageReference) (*index.List, error) {
		return index.Create(c.Context, l.store, l.sys, name, srcs, index.CreateOptions{AddOptions: f.opts, Amend: amend})
	})
	return &cli.Command{
		Name:      "create",
		Usage:     "create an index in local storage from images and indexes",
		ArgsUsage: "NAME SOURCE...",
		Description: "Each SOURCE contributes its platform image, read from its config; a SOURCE that is an index\n" +
			"contributes every platform it has (--platform picks some). Entries keep the argument order.\n\n" +
			"With --from-metadata or a docker:// NAME, the index is merged straight into NAME's registry, as\n" +
			"`docker buildx imagetools create` does, and local storage is not used: SOURCEs are metadata files of\n" +
			"builds (--push-by-digest), REG/REPO@sha256:... or oci:DIR. No child is re-serialised: each must exist\n" +
			"where its source says (it is copied byte for byte into NAME's repository), be the only one of its\n" +
			"platform, and have a config matching that platform. The published tag is read first: an index lacking\n" +
			"one of its platforms is refused unless --allow-shrink. Blobs and children are pushed before the tag.",
		Flags: append(append(append(f.flags(),
			&cli.BoolFlag{Name: "amend", Usage: "add to NAME if it already exists", Destination: &amend},
		), merge.flags()...), regFlags...),
		Action: func(c *cli.Context) error {
			merging := c.NArg() > 0 && merge.merging(c.Args().First())
			switch {
			case merging && (amend || f.Replace || len(f.Platforms.Value()) > 0):
				return cli.Exit("--amend, --replace and --platform edit indexes in local storage; a merge into a registry (--from-metadata or a docker:// NAME) takes every child of its sources once", 125)
			case !merging && merge.AllowShrink:
				return cli.Exit("--allow-shrink applies to a merge into a registry: pass --from-metadata or a docker:// NAME, or use it with polyarch index push", 125)
			case !merging && merge.sign.options().Enabled():
				return cli.Exit("--sign-by-sigstore-private-key signs a merge into a registry: pass --from-metadata or a docker:// NAME, or sign with polyarch index push", 125)
			case merging:
				return merge.action(c, g, reg, f.Quiet)
			}
			return create(c)
		},
	}
}
