package main

import (
	"github.com/polyarch/polyarch/index"
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
}

// newRegistryFlags returns the flags and the values they fill.
func newRegistryFlags(prefix string) ([]cli.Flag, *registryFlags) {
	r := &registryFlags{prefix: prefix}
	return []cli.Flag{
		&cli.BoolFlag{Name: prefix + "tls-verify", Value: true, Usage: "require HTTPS and verified certificates (default true, except registries.conf insecure registries)", Destination: &r.tlsVerify},
		&cli.StringFlag{Name: prefix + "cert-dir", Usage: "`DIR` with *.crt, *.cert, *.key for the registry", Destination: &r.certDir},
		&cli.StringFlag{Name: prefix + "authfile", Usage: "credentials `FILE` (default ${XDG_RUNTIME_DIR}/containers/auth.json, then ~/.docker/config.json)", EnvVars: []string{"REGISTRY_AUTH_FILE"}, Destination: &r.authFile},
		&cli.StringFlag{Name: prefix + "creds", Usage: "`USER[:PASSWORD]` for the registry", Destination: &r.creds},
	}, r
}

// options returns the registry options; --tls-verify counts only when given.
func (r *registryFlags) options(c *cli.Context) index.RegistryOptions {
	o := index.RegistryOptions{CertDir: r.certDir, AuthFile: r.authFile, Creds: r.creds}
	if c.IsSet(r.prefix + "tls-verify") {
		v := r.tlsVerify
		o.TLSVerify = &v
	}
	return o
}
