package session

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// AuthFile returns the credentials file containers/image is to read
// (SystemContext.AuthFilePath) when a command is given named (--authfile,
// "" for none):
//
//   - named, else $REGISTRY_AUTH_FILE: that file alone. One that exists
//     but cannot be read is an error naming it; a missing one reads as
//     empty.
//   - else "": containers/image searches its places in order. When the
//     first of them, ${XDG_RUNTIME_DIR}/containers/auth.json or else
//     /run/containers/$UID/auth.json, is not this user's to read (a user
//     without a login session once root has used podman: /run/containers
//     is mode 0700; or polyarch's rootless namespace, where $UID is 0 and
//     names root's file), it is skipped, as podman skips it: the first
//     of the later places that exists is returned, else the user's
//     ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json (reads as empty).
//     Setting a path makes containers/image read that file only.
func AuthFile(named string) (string, error) {
	if named == "" {
		named = os.Getenv("REGISTRY_AUTH_FILE")
	}
	if named != "" {
		return named, checkNamedAuthFile(named)
	}
	if firstAuthFileUsable() {
		return "", nil
	}
	for _, p := range laterAuthFiles() {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return userAuthFile(), nil
}

// checkNamedAuthFile fails when a named credentials file exists but
// cannot be read.
func checkNamedAuthFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading credentials file %s (named by --authfile or REGISTRY_AUTH_FILE): %w; make it readable by uid %d, or name another file",
			path, err, os.Getuid())
	}
	return f.Close()
}

// firstAuthFileUsable reports whether containers/image may search from
// its first place: that file is this user's and readable, or absent.
func firstAuthFileUsable() bool {
	first := ""
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		first = filepath.Join(d, "containers", "auth.json")
	} else if rootlessNamespace() {
		return false // /run/containers/0 is real root's
	} else {
		first = filepath.Join("/run/containers", strconv.Itoa(os.Getuid()), "auth.json")
	}
	f, err := os.Open(first)
	if err == nil {
		f.Close()
	}
	return err == nil || errors.Is(err, fs.ErrNotExist)
}

// laterAuthFiles are the places containers/image searches after the
// first: ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json, then
// Docker's config.json.
func laterAuthFiles() []string {
	var out []string
	if p := userAuthFile(); p != "" {
		out = append(out, p)
	}
	if p := dockerConfig(); p != "" {
		out = append(out, p)
	}
	return out
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
	if !Rootless() {
		return "/run/containers/0/auth.json"
	}
	return userAuthFile()
}

// userAuthFile returns ${XDG_CONFIG_HOME:-$HOME/.config}/containers/auth.json;
// "" without a home directory.
func userAuthFile() string {
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
