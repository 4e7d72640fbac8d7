package index

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.podman.io/image/v5/types"
)

// RegistryOptions are the registry access settings shared by every command
// that reads or writes images: the conventions of podman and skopeo.
type RegistryOptions struct {
	// TLSVerify false allows plain http and unverified certificates.
	// Default (nil): verify, except where registries.conf says insecure.
	TLSVerify *bool
	// CertDir holds *.crt, *.cert and *.key files for the registry.
	CertDir string
	// AuthFile is the credentials file; default: $REGISTRY_AUTH_FILE,
	// ${XDG_RUNTIME_DIR}/containers/auth.json, then ~/.docker/config.json.
	AuthFile string
	// Creds is "user[:password]" and overrides any stored credentials.
	Creds string
	// RegistriesConf overrides /etc/containers/registries.conf.
	RegistriesConf string
	// PolicyPath is the signature policy; default: /etc/containers/policy.json
	// if present, else accept anything.
	PolicyPath string
}

// SystemContext returns a self-contained SystemContext for opts; tmpDir
// receives a permissive signature policy when the host has none.
func SystemContext(opts RegistryOptions, tmpDir string) (*types.SystemContext, error) {
	sys := &types.SystemContext{
		DockerCertPath:           opts.CertDir,
		SystemRegistriesConfPath: opts.RegistriesConf,
		SignaturePolicyPath:      opts.PolicyPath,
		AuthFilePath:             opts.AuthFile,
	}
	if sys.AuthFilePath == "" {
		sys.AuthFilePath = DefaultAuthFile()
	}
	if opts.TLSVerify != nil && !*opts.TLSVerify {
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolTrue
		sys.OCIInsecureSkipTLSVerify = true
	} else if opts.TLSVerify != nil {
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolFalse
	}
	if opts.Creds != "" {
		user, pass, _ := strings.Cut(opts.Creds, ":")
		if user == "" {
			return nil, fmt.Errorf("invalid --creds: use USER[:PASSWORD]")
		}
		sys.DockerAuthConfig = &types.DockerAuthConfig{Username: user, Password: pass}
	}
	if sys.SignaturePolicyPath == "" {
		p, err := policyPath(tmpDir)
		if err != nil {
			return nil, err
		}
		sys.SignaturePolicyPath = p
	}
	return sys, nil
}

// permissivePolicy accepts any image; used when the host has no policy.
const permissivePolicy = `{"default":[{"type":"insecureAcceptAnything"}]}`

// policyPath returns the host's signature policy or writes a permissive one.
func policyPath(tmpDir string) (string, error) {
	const system = "/etc/containers/policy.json"
	if _, err := os.Stat(system); err == nil {
		return system, nil
	}
	if tmpDir == "" {
		tmpDir = os.TempDir()
	}
	p := filepath.Join(tmpDir, "polyarch-policy.json")
	if err := os.WriteFile(p, []byte(permissivePolicy), 0o600); err != nil {
		return "", fmt.Errorf("writing signature policy: %w", err)
	}
	return p, nil
}

// DefaultAuthFile returns where credentials are read and written:
// $REGISTRY_AUTH_FILE, else ${XDG_RUNTIME_DIR}/containers/auth.json when
// XDG_RUNTIME_DIR is set, else ~/.docker/config.json if it exists, else
// ~/.config/containers/auth.json. The path is computed from the real user's
// environment, never from inside polyarch's user namespace.
func DefaultAuthFile() string {
	if p := os.Getenv("REGISTRY_AUTH_FILE"); p != "" {
		return p
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "containers", "auth.json")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	if p := filepath.Join(home, ".docker", "config.json"); fileExists(p) {
		return p
	}
	return filepath.Join(home, ".config", "containers", "auth.json")
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
