package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"
)

// errParsed ends a command at its checkpoint in parse-only mode: its
// flags and arguments passed the checks the real command makes before
// any work.
var errParsed = errors.New("parse-only: the command line is valid")

// parseOnlyFlag is the hidden global --parse-only: parse and validate a
// command line, then exit 0 without doing any work. The recipes in
// contrib/ are checked with it, so that a renamed flag breaks a test.
func parseOnlyFlag(g *globalOptions) cli.Flag {
	return &cli.BoolFlag{Name: "parse-only", Hidden: true, Destination: &g.ParseOnly,
		Usage: "parse and validate the command line as the command would, then exit 0 without doing any work"}
}

// parsed is every command's checkpoint, called once its flags and
// arguments are validated and before it reads stdin, opens storage or
// reaches a registry: in parse-only mode it returns errParsed.
func (g *globalOptions) parsed() error {
	if g.ParseOnly {
		return errParsed
	}
	return nil
}

// parseOnlyActions wraps every command's action: in parse-only mode the
// checkpoint's errParsed becomes success, and a command that ends
// without reaching a checkpoint is reported as a defect of polyarch.
func parseOnlyActions(g *globalOptions, cmds []*cli.Command) {
	wrapActions(cmds, func(c *cli.Context, action cli.ActionFunc) error {
		err := action(c)
		switch {
		case !g.ParseOnly:
			return err
		case errors.Is(err, errParsed):
			fmt.Fprintf(g.Stderr, "%s: command line valid (--parse-only: nothing done)\n", c.Command.HelpName)
			return nil
		case err == nil:
			return fmt.Errorf("%s has no --parse-only checkpoint: report this as a polyarch bug", c.Command.HelpName)
		}
		return err
	})
}
