package index

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/types"
)

// CredentialKey turns a login argument into the key credentials are
// stored under and the registry host to check them against:
// "https://host:5000/v2/" is host:5000; "host/namespace" keeps its
// namespace as the key, as podman does.
func CredentialKey(arg string) (key, registry string, err error) {
	key = arg
	if strings.HasPrefix(arg, "https://") || strings.HasPrefix(arg, "http://") {
		u, err := url.Parse(arg)
		if err != nil || u.Host == "" {
			return "", "", fmt.Errorf("invalid registry %q: use HOST[:PORT][/NAMESPACE]", arg)
		}
		key = u.Host
	}
	registry, _, _ = strings.Cut(key, "/")
	if registry == "" {
		return "", "", fmt.Errorf("invalid registry %q: use HOST[:PORT][/NAMESPACE]", arg)
	}
	if key != registry {
		named, err := reference.ParseNormalizedNamed(key)
		if err != nil || !reference.IsNameOnly(named) || reference.Domain(named) != registry {
			return "", "", fmt.Errorf("invalid registry %q: use HOST[:PORT][/NAMESPACE], without tag or digest", arg)
		}
	}
	return key, registry, nil
}

// Login checks username and password against the registry of key (see
// CredentialKey) with the TLS settings of sys and, only if the registry
// accepts them, stores them in sys.AuthFilePath. It returns where they
// were stored. Neither the password nor the credentials ever appear in
// an error.
func Login(ctx context.Context, sys *types.SystemContext, key, username, password string) (string, error) {
	_, registry, err := CredentialKey(key)
	if err != nil {
		return "", err
	}
	if username == "" || password == "" {
		return "", fmt.Errorf("logging in to %s: a username and a password are needed", registry)
	}
	if err := docker.CheckAuth(ctx, sys, username, password, registry); err != nil {
		var refused docker.ErrUnauthorizedForCredentials
		if errors.As(err, &refused) {
			return "", fmt.Errorf("logging in to %s as %q: invalid username or password", registry, username)
		}
		return "", fmt.Errorf("logging in to %s: %w", registry, Explain(err, registry))
	}
	where, err := config.SetCredentials(sys, key, username, password)
	if err != nil {
		return "", fmt.Errorf("storing credentials for %s in %s: %w", key, sys.AuthFilePath, err)
	}
	return where, nil
}

// Logout removes the credentials stored for key from sys.AuthFilePath.
func Logout(sys *types.SystemContext, key string) error {
	key, _, err := CredentialKey(key)
	if err != nil {
		return err
	}
	err = config.RemoveAuthentication(sys, key)
	if errors.Is(err, config.ErrNotLoggedIn) {
		return fmt.Errorf("not logged in to %s (credentials file %s)", key, sys.AuthFilePath)
	}
	if err != nil {
		return fmt.Errorf("removing credentials for %s from %s: %w", key, sys.AuthFilePath, err)
	}
	return nil
}

// LogoutAll removes every credential stored in sys.AuthFilePath.
func LogoutAll(sys *types.SystemContext) error {
	if err := config.RemoveAllAuthentication(sys); err != nil {
		return fmt.Errorf("removing all credentials from %s: %w", sys.AuthFilePath, err)
	}
	return nil
}
