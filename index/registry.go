package index

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/polyarch/polyarch/session"
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
	// AuthFile is the only credentials file read when set; one that
	// exists but cannot be read is an error. Default: $REGISTRY_AUTH_FILE,
	// else the files containers/image searches in order:
	// ${XDG_RUNTIME_DIR}/containers/auth.json (without XDG_RUNTIME_DIR,
	// /run/containers/$UID/auth.json), ~/.config/containers/auth.json,
	// ~/.docker/config.json, skipping the first when it is not the
	// user's to read (see session.AuthFile).
	AuthFile string
	// Creds is "user[:password]" and overrides any stored credentials.
	Creds string
	// RegistriesConf overrides /etc/containers/registries.conf.
	RegistriesConf string
	// PolicyPath is the signature policy; default: /etc/containers/policy.json
	// if present, else accept anything.
	PolicyPath string
	// RegistriesDir is the registries.d directory saying where each
	// registry's signatures are stored (use-sigstore-attachments: true
	// for sigstore signatures); default ~/.config/containers/registries.d
	// if present, else /etc/containers/registries.d.
	RegistriesDir string
}

// SystemContext returns a self-contained SystemContext for opts; when
// the host has no signature policy, a permissive one is written in tmpDir
// (the store's run root, private to the user) or, for "", in the user's
// cache directory (see policyPath).
func SystemContext(opts RegistryOptions, tmpDir string) (*types.SystemContext, error) {
	authFile, err := session.AuthFile(opts.AuthFile)
	if err != nil {
		return nil, err
	}
	sys := &types.SystemContext{
		DockerCertPath:           opts.CertDir,
		SystemRegistriesConfPath: opts.RegistriesConf,
		SignaturePolicyPath:      opts.PolicyPath,
		RegistriesDirPath:        opts.RegistriesDir,
		AuthFilePath:             authFile,
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

// systemPolicy is the host's signature policy, used when present; a
// variable for tests.
var systemPolicy = "/etc/containers/policy.json"

// policyPath returns the host's signature policy, or a permissive one in
// a directory of the user's own: dir (callers pass the store's run root),
// else ${XDG_CACHE_HOME:-~/.cache}/polyarch. That file is shared by the
// user's polyarch processes and stays, as the store does: it never
// changes and is replaced by a rename, so none reads it half written.
// Only without such a directory is a file made for this process in
// os.TempDir(); nothing removes it but the system's cleaning of that
// directory.
func policyPath(dir string) (string, error) {
	if fileExists(systemPolicy) {
		return systemPolicy, nil
	}
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return writePolicy(os.TempDir(), "")
		}
		dir = filepath.Join(cache, "polyarch")
	}
	p := filepath.Join(dir, "polyarch-policy.json")
	if b, err := os.ReadFile(p); err == nil && string(b) == permissivePolicy {
		return p, nil
	}
	return writePolicy(dir, p)
}

// writePolicy writes permissivePolicy to a new file in dir, renamed to
// final unless final is "", and returns the file's path.
func writePolicy(dir, final string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("writing a signature policy in %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "polyarch-policy-*.json")
	if err != nil {
		return "", fmt.Errorf("writing a signature policy in %s: %w", dir, err)
	}
	_, err = f.WriteString(permissivePolicy)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && final == "" {
		return f.Name(), nil
	}
	if err == nil {
		err = os.Rename(f.Name(), final)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("writing a signature policy in %s: %w", dir, err)
	}
	return final, nil
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
