package main

import (
	"github.com/polyarch/polyarch/index"
	"github.com/urfave/cli/v2"
)

// signatureFlags returns --registries.d and --signature-policy for the
// unprefixed registry flags (copy's src- and dest- sides share them).
func (r *registryFlags) signatureFlags() []cli.Flag {
	if r.prefix != "" {
		return nil
	}
	return []cli.Flag{
		&cli.StringFlag{Name: "registries.d", Usage: "`DIR` of registries.d files saying where each registry's signatures are (use-sigstore-attachments: true) " +
			"(default: ~/.config/containers/registries.d if present, else /etc/containers/registries.d)", Destination: &r.registriesDir},
		&cli.StringFlag{Name: "signature-policy", Usage: "signature policy `FILE` images read must satisfy (default: /etc/containers/policy.json, else accept anything)", Destination: &r.policy},
	}
}

// signFlags are the signing flags of build, index push and copy.
type signFlags struct {
	key, passphrase string
}

// newSignFlags returns the signing flags and the values they fill.
func newSignFlags(what string) ([]cli.Flag, *signFlags) {
	s := &signFlags{}
	return []cli.Flag{
		&cli.StringFlag{Name: "sign-by-sigstore-private-key", Usage: "sign " + what + " with the sigstore private key `FILE` (see polyarch key generate); " +
			"signatures go where registries.d says (use-sigstore-attachments)", Destination: &s.key},
		&cli.StringFlag{Name: "sign-passphrase-file", Usage: "read the signing key's passphrase from the first line of `FILE`", Destination: &s.passphrase},
	}, s
}

// options returns the signing options.
func (s *signFlags) options() index.SignOptions {
	return index.SignOptions{PrivateKeyFile: s.key, PassphraseFile: s.passphrase}
}
