package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuthFile checks which credentials file containers/image is told to
// read ("": it searches its places) and where login writes, with real
// files in a temporary home. "@" in paths and variables is a temporary
// directory; "@/file" is a regular file, so paths under it cannot be
// opened even by root (as /run/containers/$UID cannot by a user once
// root has used podman).
func TestAuthFile(t *testing.T) {
	rootDefault := "@/home/.config/containers/auth.json"
	if os.Geteuid() == 0 {
		rootDefault = "/run/containers/0/auth.json"
	}
	userFile, dockerFile := "@/home/.config/containers/auth.json", "@/home/.docker/config.json"
	for _, tc := range []struct {
		name        string
		given       string
		env         map[string]string
		files       []string // created before the call
		read, write string   // AuthFile(given), DefaultAuthFile()
		err         string   // AuthFile's error, if any
	}{
		{name: "given", given: "/a.json", read: "/a.json", write: rootDefault},
		{name: "REGISTRY_AUTH_FILE", env: map[string]string{"REGISTRY_AUTH_FILE": "/b.json"}, read: "/b.json", write: "/b.json"},
		{name: "given, unreadable", given: "@/file/auth.json", err: "reading credentials file @/file/auth.json (named by --authfile", write: rootDefault},
		{name: "REGISTRY_AUTH_FILE, unreadable", env: map[string]string{"REGISTRY_AUTH_FILE": "@/file/auth.json"}, err: "@/file/auth.json", write: "@/file/auth.json"},
		{name: "search", write: rootDefault},
		{name: "XDG_RUNTIME_DIR", env: map[string]string{"XDG_RUNTIME_DIR": "@/run"}, write: "@/run/containers/auth.json"},
		{name: "XDG_RUNTIME_DIR holds the file", env: map[string]string{"XDG_RUNTIME_DIR": "@/run"}, files: []string{"@/run/containers/auth.json", userFile},
			write: "@/run/containers/auth.json"},
		{name: "first file unreadable, none later", env: map[string]string{"XDG_RUNTIME_DIR": "@/file"}, read: userFile, write: "@/file/containers/auth.json"},
		{name: "first file unreadable, Docker's later", env: map[string]string{"XDG_RUNTIME_DIR": "@/file"}, files: []string{dockerFile},
			read: dockerFile, write: "@/file/containers/auth.json"},
		{name: "first file unreadable, both later", env: map[string]string{"XDG_RUNTIME_DIR": "@/file"}, files: []string{userFile, dockerFile},
			read: userFile, write: "@/file/containers/auth.json"},
		{name: "rootless namespace", env: map[string]string{namespaceEnv: "rootless"}, read: userFile, write: userFile},
		{name: "rootless namespace, XDG_CONFIG_HOME", env: map[string]string{namespaceEnv: "rootless", "XDG_CONFIG_HOME": "@/cfg"},
			read: "@/cfg/containers/auth.json", write: "@/cfg/containers/auth.json"},
		{name: "rootless namespace, only Docker's file", env: map[string]string{namespaceEnv: "rootless"}, files: []string{dockerFile},
			read: dockerFile, write: userFile},
		{name: "rootless namespace, XDG_RUNTIME_DIR", env: map[string]string{namespaceEnv: "rootless", "XDG_RUNTIME_DIR": "@/run"},
			write: "@/run/containers/auth.json"},
		{name: "root namespace", env: map[string]string{namespaceEnv: "root"}, write: rootDefault},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			at := func(s string) string { return strings.ReplaceAll(s, "@", tmp) }
			if err := os.WriteFile(filepath.Join(tmp, "file"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("HOME", filepath.Join(tmp, "home"))
			for _, k := range []string{"REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "DOCKER_CONFIG", namespaceEnv} {
				t.Setenv(k, at(tc.env[k]))
			}
			for _, f := range tc.files {
				writeFile(t, at(f), `{"auths":{}}`)
			}
			got, err := AuthFile(at(tc.given))
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), at(tc.err))):
				t.Errorf("AuthFile(%q) error = %v, want one naming %q", tc.given, err, at(tc.err))
			case tc.err == "" && err != nil:
				t.Errorf("AuthFile(%q): %v", tc.given, err)
			case tc.err == "" && got != at(tc.read):
				t.Errorf("AuthFile(%q) = %q, want %q", tc.given, got, at(tc.read))
			}
			if got := DefaultAuthFile(); got != at(tc.write) {
				t.Errorf("DefaultAuthFile() = %q, want %q", got, at(tc.write))
			}
		})
	}
}

// writeFile writes content to path, creating its directories.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
