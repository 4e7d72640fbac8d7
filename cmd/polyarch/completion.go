package main

import (
	_ "embed"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

// bashCompletion and zshCompletion ask polyarch for candidates with
// urfave/cli's --generate-bash-completion (adapted from urfave/cli's
// autocomplete/ scripts, without bash-completion's helpers).
var (
	//go:embed completion/polyarch.bash
	bashCompletion string
	//go:embed completion/_polyarch
	zshCompletion string
)

// newCompletionCommand returns `polyarch completion`.
func newCompletionCommand(g *globalOptions) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: "source <(polyarch completion bash) in ~/.bashrc (zsh likewise), or\n" +
			"polyarch completion fish > ~/.config/fish/completions/polyarch.fish.\n" +
			"`make install` puts all three where the shells look for them.",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit(fmt.Sprintf("polyarch completion takes one SHELL (bash, zsh or fish), got %d arguments", c.NArg()), 125)
			}
			if err := checkShell(c.Args().First()); err != nil {
				return err
			}
			if err := g.parsed(); err != nil {
				return err
			}
			return writeCompletion(g.Stdout, c.App, c.Args().First())
		},
	}
}

// checkShell refuses a SHELL that polyarch has no completion script for.
func checkShell(shell string) error {
	switch shell {
	case "bash", "zsh", "fish":
		return nil
	}
	return cli.Exit(fmt.Sprintf("unknown shell %q: use bash, zsh or fish", shell), 125)
}

// writeCompletion writes shell's completion script for app to w.
func writeCompletion(w io.Writer, app *cli.App, shell string) error {
	switch shell {
	case "bash":
		_, err := io.WriteString(w, bashCompletion)
		return err
	case "zsh":
		_, err := io.WriteString(w, zshCompletion)
		return err
	case "fish":
		s, err := app.ToFishCompletion()
		if err != nil {
			return fmt.Errorf("generating the fish completion: %w", err)
		}
		_, err = io.WriteString(w, s)
		return err
	}
	return cli.Exit(fmt.Sprintf("unknown shell %q: use bash, zsh or fish", shell), 125)
}
