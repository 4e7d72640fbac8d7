package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/polyarch/polyarch/index"
	"github.com/urfave/cli/v2"
	imagecli "go.podman.io/image/v5/pkg/cli"
	"golang.org/x/term"
)

// newKeyCommand returns `polyarch key`.
func newKeyCommand(g *globalOptions) *cli.Command {
	return &cli.Command{
		Name:        "key",
		Usage:       "manage sigstore signing keys",
		Subcommands: []*cli.Command{newKeyGenerateCommand(g)},
	}
}

// keyGenerateFlags holds the raw flags of polyarch key generate.
type keyGenerateFlags struct {
	Prefix, PassphraseFile string
}

// newKeyGenerateCommand returns `polyarch key generate`.
func newKeyGenerateCommand(g *globalOptions) *cli.Command {
	f := &keyGenerateFlags{}
	return &cli.Command{
		Name:  "generate",
		Usage: "generate a sigstore key pair: PREFIX.key (private, encrypted) and PREFIX.pub",
		Description: "The private key signs pushes (--sign-by-sigstore-private-key); the public key goes in a\n" +
			"policy.json sigstoreSigned requirement (keyPath) for podman and skopeo to verify them.\n" +
			"The passphrase is read from --passphrase-file, else asked twice on the terminal.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output-prefix", Required: true, Usage: "write `PREFIX`.key and PREFIX.pub (neither may exist)", Destination: &f.Prefix},
			&cli.StringFlag{Name: "passphrase-file", Usage: "read the passphrase protecting the private key from the first line of `FILE`", Destination: &f.PassphraseFile},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return cli.Exit("polyarch key generate takes no arguments: name the files with --output-prefix", 125)
			}
			if err := g.parsed(); err != nil {
				return err
			}
			pass, err := f.passphrase(g)
			if err != nil {
				return cli.Exit(err.Error(), 125)
			}
			priv, pub, err := index.WriteKeyPair(f.Prefix, pass)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "%s\n%s\n", priv, pub)
			return nil
		},
	}
}

// passphrase reads the passphrase from --passphrase-file, else asks for it
// twice on the terminal; without either it refuses.
func (f *keyGenerateFlags) passphrase(g *globalOptions) ([]byte, error) {
	if f.PassphraseFile != "" {
		p, err := imagecli.ReadPassphraseFile(f.PassphraseFile)
		if err != nil {
			return nil, fmt.Errorf("reading --passphrase-file: %w", err)
		}
		return []byte(p), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, errors.New("no terminal to ask for the key's passphrase: pass --passphrase-file FILE")
	}
	var answers [2][]byte
	for i, prompt := range []string{"Passphrase for the private key: ", "Again: "} {
		fmt.Fprint(g.Stderr, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(g.Stderr)
		if err != nil {
			return nil, fmt.Errorf("reading the passphrase: %w", err)
		}
		answers[i] = b
	}
	if string(answers[0]) != string(answers[1]) {
		return nil, errors.New("the passphrases differ: run polyarch key generate again")
	}
	return answers[0], nil
}
