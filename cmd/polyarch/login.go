package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/polyarch/polyarch/index"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// loginFlags holds the raw flags of polyarch login.
type loginFlags struct {
	Username      string
	Password      string
	PasswordStdin bool
}

// newLoginCommand returns `polyarch login`.
func newLoginCommand(g *globalOptions) *cli.Command {
	f := &loginFlags{}
	regFlags, reg := newRegistryFlags("")
	return &cli.Command{
		Name:      "login",
		Usage:     "check credentials against a registry and store them",
		ArgsUsage: "REGISTRY",
		Description: "The registry must accept the credentials before they are stored in the auth file: --authfile,\n" +
			"else $REGISTRY_AUTH_FILE, else the first file other commands search, as podman login does:\n" +
			"${XDG_RUNTIME_DIR}/containers/auth.json, else /run/containers/0/auth.json for root and\n" +
			"~/.config/containers/auth.json for other users.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "`USER` name", Destination: &f.Username},
			&cli.StringFlag{Name: "password", Aliases: []string{"p"}, Usage: "`PASSWORD` (visible to other users: prefer --password-stdin)", Destination: &f.Password},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from standard input", Destination: &f.PasswordStdin},
		}, storeAuthFile(without(regFlags, "creds"))...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit(fmt.Sprintf("polyarch login takes exactly one REGISTRY, got %d arguments", c.NArg()), 125)
			}
			if err := f.conflicts(); err != nil {
				return cli.Exit(err.Error(), 125)
			}
			if err := g.parsed(); err != nil {
				return err
			}
			if err := f.complete(g); err != nil {
				return cli.Exit(err.Error(), 125)
			}
			sys, err := index.SystemContext(reg.credentialOptions(c), "")
			if err != nil {
				return err
			}
			if _, err := index.Login(c.Context, sys, c.Args().First(), f.Username, f.Password); err != nil {
				return err
			}
			fmt.Fprintln(g.Stdout, "Login Succeeded!")
			return nil
		},
	}
}

// conflicts rejects flags that do not go together.
func (f *loginFlags) conflicts() error {
	switch {
	case f.PasswordStdin && f.Password != "":
		return fmt.Errorf("--password and --password-stdin are mutually exclusive")
	case f.PasswordStdin && f.Username == "":
		return fmt.Errorf("--password-stdin needs --username")
	}
	return nil
}

// complete reads the password from stdin, or asks on a terminal for what
// the flags did not give.
func (f *loginFlags) complete(g *globalOptions) error {
	switch {
	case f.PasswordStdin:
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return fmt.Errorf("reading the password from standard input: %w", err)
		}
		f.Password = strings.TrimRight(string(b), "\r\n")
		return nil
	case f.Username != "" && f.Password != "":
		return nil
	}
	return f.prompt(g)
}

// prompt asks on the terminal for the username and password not given.
func (f *loginFlags) prompt(g *globalOptions) error {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return fmt.Errorf("no terminal to ask for credentials: pass --username and --password-stdin")
	}
	if f.Username == "" {
		fmt.Fprint(g.Stderr, "Username: ")
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil {
			return fmt.Errorf("reading the username: %w", err)
		}
		f.Username = strings.TrimSpace(line)
	}
	if f.Password == "" {
		fmt.Fprint(g.Stderr, "Password: ")
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(g.Stderr)
		if err != nil {
			return fmt.Errorf("reading the password: %w", err)
		}
		f.Password = string(b)
	}
	return nil
}

// without returns flags less those named.
func without(flags []cli.Flag, names ...string) []cli.Flag {
	var out []cli.Flag
	for _, fl := range flags {
		keep := true
		for _, n := range names {
			keep = keep && fl.Names()[0] != n
		}
		if keep {
			out = append(out, fl)
		}
	}
	return out
}
