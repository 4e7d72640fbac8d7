package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// completionFlag is urfave/cli's request for completion candidates, which
// the completion scripts append to the words typed so far.
const completionFlag = "--generate-bash-completion"

// permuteArgs moves the flags of the invoked command in front of its
// arguments, so `polyarch build . -t app:1` works as with podman and
// buildx: urfave/cli stops reading flags at the first argument. Tokens
// after "--" stay arguments; --help anywhere shows the command's help.
func permuteArgs(app *cli.App, args []string) ([]string, error) {
	if len(args) < 2 || args[len(args)-1] == completionFlag {
		return args, nil // a completion request is answered as typed
	}
	out := []string{args[0]}
	rest := args[1:]
	var flags []cli.Flag = app.Flags
	var cmds []*cli.Command = app.Commands
	// Global flags and the command path, kept in place.
	for len(rest) > 0 {
		tok := rest[0]
		if strings.HasPrefix(tok, "-") && tok != "-" && tok != "--" {
			n := flagWidth(flags, tok, rest)
			out, rest = append(out, rest[:n]...), rest[n:]
			continue
		}
		cmd := findCommand(cmds, tok)
		if cmd == nil {
			return append(out, rest...), nil
		}
		out, rest = append(out, tok), rest[1:]
		flags, cmds = cmd.Flags, cmd.Subcommands
		if len(cmds) == 0 {
			break
		}
	}
	tail, err := splitFlags(flags, rest)
	return append(out, tail...), err
}

// splitFlags returns the flags of rest, with their values, before its
// other tokens; with --help, only the help flag.
func splitFlags(flags []cli.Flag, rest []string) ([]string, error) {
	var front, back []string
	for len(rest) > 0 {
		tok := rest[0]
		switch {
		case tok == "--":
			return append(append(append(front, back...), tok), rest[1:]...), nil
		case tok == "--help" || tok == "-h":
			return []string{tok}, nil
		case strings.HasPrefix(tok, "-") && tok != "-":
			n := flagWidth(flags, tok, rest)
			if n == 0 {
				return nil, cli.Exit(fmt.Sprintf("flag %s needs a value", tok), 125)
			}
			front, rest = append(front, rest[:n]...), rest[n:]
		default:
			back, rest = append(back, tok), rest[1:]
		}
	}
	return append(front, back...), nil
}

// flagWidth is how many tokens the flag at rest[0] spans: 2 when it takes
// its value from the next token, 0 when that value is missing, else 1.
func flagWidth(flags []cli.Flag, tok string, rest []string) int {
	name, _, hasValue := strings.Cut(strings.TrimLeft(tok, "-"), "=")
	if hasValue {
		return 1
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if _, isBool := f.(*cli.BoolFlag); isBool {
				return 1
			}
			if len(rest) < 2 {
				return 0
			}
			return 2
		}
	}
	return 1
}

// findCommand returns the command called name (or an alias), or nil.
func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
