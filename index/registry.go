package index

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.podman.io/image/v5/types"
)

// UserNamespaceEnv is set in every polyarch process running in the user
// namespace polyarch created: "rootless" for an ordinary user (uid 0
// there is the user), "root" for root. builder sets it when re-executing.
const UserNamespaceEnv = "_POLYARCH_USERNS"

// RegistryOptions are the registry access settings shared by every command
// that reads or writes images: the conventions of podman and skopeo.
type RegistryOptions struct {
	// TLSVerify false allows plain http and unverified certificates.
	// Default (nil): verify, except where registries.conf says insecure.
	TLSVerify *bool
	// CertDir holds *.crt, *.cert and *.key files for the registry.
	CertDir string
	// AuthFile is the only credentials file read when set. Default:
	// $REGISTRY_AUTH_FILE, else the files containers/image searches in
	// order: ${XDG_RUNTIME_DIR}/containers/auth.json (without
	// XDG_RUNTIME_DIR, /run/containers/$UID/auth.json),
	// ~/.config/containers/auth.json, ~/.docker/config.json; in
	// polyarch's rootless user namespace without XDG_RUNTIME_DIR, the
	// user's own file alone (see authFilePath).
	AuthFile string
	// Creds is "user[:password]" and overrides any stored credentials.
	Creds string
	// RegistriesConf overrides /etc/containers/registries.conf.
	RegistriesConf string
	// PolicyPath is the signature policy; default: /etc/containers/policy.json
	// if present, else accept anything.
	PolicyPath string
}

// SystemContext returns a self-contained SystemContext for opts; when
// the host has no signature policy, a permissive one is written in tmpDir
// (the store's run root, private to the user) or, for "", in the user's
// cache directory (see policyPath).
func SystemContext(opts RegistryOptions, tmpDir string) (*types.SystemContext, error) {
	sys := &types.SystemContext{
		DockerCertPath:           opts.CertDir,
		SystemRegistriesConfPath: opts.RegistriesConf,
		SignaturePolicyPath:      opts.PolicyPath,
		AuthFilePath:             authFilePath(opts.AuthFile),
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

// authFilePath returns the SystemContext.AuthFilePath for a given
// --authfile: it, else $REGISTRY_AUTH_FILE, else "" so that
// containers/image searches all its places. Setting a path makes
// containers/image read that file only, so it is set unasked only in
// polyarch's rootless user namespace without XDG_RUNTIME_DIR, where
// containers/image would look first in /run/containers/0 (real root's):
// then it is the user's file (see DefaultAuthFile), or
// ~/.docker/config.json when only that exists.
func authFilePath(given string) string {
	if given != "" {
		return given
	}
	if p := os.Getenv("REGISTRY_AUTH_FILE"); p != "" {
		return p
	}
	if os.Getenv(UserNamespaceEnv) != "rootless" || os.Getenv("XDG_RUNTIME_DIR") != "" {
		return ""
	}
	p := DefaultAuthFile()
	if docker := dockerConfig(); !fileExists(p) && docker != "" && fileExists(docker) {
		return docker
	}
	return p
}

// DefaultAuthFile returns where login stores credentials and logout
// removes them when no file is named, as podman login does:
// $REGISTRY_AUTH_FILE, else ${XDG_RUNTIME_DIR}/containers/auth.json,
// else for root /run/containers/0/auth.json (each the first file
// containers/image searches), else, for an ordinary user in polyarch's
// user namespace or not, ${XDG_CONFIG_HOME:-$HOME/.config}/containers/auth.json,
// the next one: /run/containers/$UID is not the user's to create, and in
// the namespace, where the user is uid 0, it would name root's.
func DefaultAuthFile() string {
	if p := os.Getenv("REGISTRY_AUTH_FILE"); p != "" {
		return p
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "containers", "auth.json")
	}
	if os.Geteuid() == 0 && os.Getenv(UserNamespaceEnv) != "rootless" {
		return "/run/containers/0/auth.json"
	}
	config := os.Getenv("XDG_CONFIG_HOME")
	if config == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		config = filepath.Join(home, ".config")
	}
	return filepath.Join(config, "containers", "auth.json")
}

// dockerConfig returns Docker's credentials file: $DOCKER_CONFIG/config.json,
// else ~/.docker/config.json; "" without a home directory.
func dockerConfig() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".docker", "config.json")
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
