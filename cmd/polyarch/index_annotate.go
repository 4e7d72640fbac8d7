package main

import (
	"fmt"
	"strings"

	"github.com/polyarch/polyarch/index"
	"github.com/urfave/cli/v2"
)

// annotateFlags holds the raw flags of polyarch index annotate.
type annotateFlags struct {
	Index                        bool
	OS, Arch, Variant, OSVersion string
	Annotations                  cli.StringSlice
	// opts are the parsed flags.
	opts index.AnnotateOptions
}

// newIndexAnnotateCommand returns `polyarch index annotate`.
func newIndexAnnotateCommand(g *globalOptions) *cli.Command {
	f := &annotateFlags{}
	return &cli.Command{
		Name:      "annotate",
		Usage:     "set the platform or annotations of an entry, or annotations of the index itself",
		ArgsUsage: "NAME [DIGEST|PLATFORM]",
		Description: "With DIGEST or PLATFORM, changes that entry; with --index or no entry, annotates the index.\n" +
			"An entry named by platform must be the only entry with that platform.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "index", Usage: "annotate the index itself, not an entry", Destination: &f.Index},
			&cli.StringFlag{Name: "os", Usage: "set the entry's `OS`", Destination: &f.OS},
			&cli.StringFlag{Name: "arch", Usage: "set the entry's `ARCH`itecture", Destination: &f.Arch},
			&cli.StringFlag{Name: "variant", Usage: "set the entry's architecture `VARIANT`", Destination: &f.Variant},
			&cli.StringFlag{Name: "os-version", Usage: "set the entry's `VERSION` of the OS", Destination: &f.OSVersion},
			&cli.StringSliceFlag{Name: "annotation", Usage: "add `KEY=VALUE` annotation (repeatable)", Destination: &f.Annotations},
		},
		Action: indexAction{min: 1, max: 2, check: f.parse, run: func(c *cli.Context, l *localStore, args []string) error {
			res, err := index.Annotate(l.store, args[0], entryArg(args), f.opts)
			if err != nil {
				return err
			}
			printList(g, res, true)
			return nil
		}}.action(g),
	}
}

// parse validates the flags against args into f.opts.
func (f *annotateFlags) parse(args []string) error {
	f.opts = index.AnnotateOptions{OS: f.OS, Architecture: f.Arch, Variant: f.Variant, OSVersion: f.OSVersion}
	if f.Index && entryArg(args) != "" {
		return fmt.Errorf("--index annotates the index itself: drop --index or the entry %q", entryArg(args))
	}
	for _, kv := range f.Annotations.Value() {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("invalid --annotation %q: use KEY=VALUE", kv)
		}
		if f.opts.Annotations == nil {
			f.opts.Annotations = map[string]string{}
		}
		f.opts.Annotations[k] = v
	}
	return nil
}

// entryArg returns the DIGEST|PLATFORM argument, "" for the index itself.
func entryArg(args []string) string {
	if len(args) < 2 {
		return ""
	}
	return args[1]
}
