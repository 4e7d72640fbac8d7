package main

import (
	"github.com/polyarch/polyarch/index"
	"github.com/polyarch/polyarch/session"
	"github.com/urfave/cli/v2"
)

// registryFlags are the registry access flags of one side of a command;
// copy uses the prefixes "src-" and "dest-", as skopeo does.
type registryFlags struct {
	prefix    string
	tlsVerify bool
	certDir   string
	authFile  string
	creds     string
	// registriesDir and policy are the --registries.d and
	// --signature-policy flags, given without prefix only.
	registriesDir, policy string
}

// newRegistryFlags returns the flags and the values they fill.
func newRegistryFlags(prefix string) ([]cli.Flag, *registryFlags) {
	r := &registryFlags{prefix: prefix}
	return append([]cli.Flag{
		&cli.BoolFlag{Name: prefix + "tls-verify", Value: true, Usage: "require HTTPS and verified certificates (default true, except registries.conf insecure registries)", Destination: &r.tlsVerify},
		&cli.StringFlag{Name: prefix + "cert-dir", Usage: "`DIR` with *.crt, *.cert, *.key for the registry", Destination: &r.certDir},
		&cli.StringFlag{Name: prefix + "authfile", Usage: "read credentials from `FILE` alone (default: search ${XDG_RUNTIME_DIR}/containers/auth.json or " +
			"/run/containers/$UID/auth.json, then ~/.config/containers/auth.json, then ~/.docker/config.json)", EnvVars: []string{"REGISTRY_AUTH_FILE"}, Destination: &r.authFile},
		&cli.StringFlag{Name: prefix + "creds", Usage: "`USER[:PASSWORD]` for the registry", Destination: &r.creds},
	}, r.signatureFlags()...), r
}

// storeUsage is the --authfile help of login and logout, which write
// session.DefaultAuthFile() by default.
const storeUsage = "credentials `FILE` to write (default: ${XDG_RUNTIME_DIR}/containers/auth.json, else " +
	"/run/containers/0/auth.json for root, ~/.config/containers/auth.json for other users)"

// storeAuthFile gives the --authfile flag among flags the help of login
// and logout.
func storeAuthFile(flags []cli.Flag) []cli.Flag {
	for _, fl := range flags {
		if sf, ok := fl.(*cli.StringFlag); ok && sf.Name == "authfile" {
			sf.Usage = storeUsage
		}
	}
	return flags
}

// credentialOptions returns the registry options of login and logout:
// the auth file is session.DefaultAuthFile() unless --authfile (or
// $REGISTRY_AUTH_FILE) names one, as podman login does.
func (r *registryFlags) credentialOptions(c *cli.Context) index.RegistryOptions {
	o := r.options(c)
	if o.AuthFile == "" {
		o.AuthFile = session.DefaultAuthFile()
	}
	return o
}

// options returns the registry options; --tls-verify counts only when given.
func (r *registryFlags) options(c *cli.Context) index.RegistryOptions {
	o := index.RegistryOptions{CertDir: r.certDir, AuthFile: r.authFile, Creds: r.creds, RegistriesDir: r.registriesDir, PolicyPath: r.policy}
	if c.IsSet(r.prefix + "tls-verify") {
		v := r.tlsVerify
		o.TLSVerify = &v
	}
	return o
}
