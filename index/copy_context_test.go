package index

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicyPath writes the fallback signature policy where each case
// says, readable again by the same user, without the host's policy.
func TestPolicyPath(t *testing.T) {
	systemPolicy = filepath.Join(t.TempDir(), "absent.json")
	t.Cleanup(func() { systemPolicy = "/etc/containers/policy.json" })
	for _, tc := range []struct {
		name   string
		dir    bool              // pass a directory (a store's run root)
		env    map[string]string // @ is replaced by a temporary directory
		want   string            // the path, under DIR
		shared bool              // a second call returns the same file
	}{
		{name: "run root", dir: true, want: "polyarch-policy.json", shared: true},
		{name: "cache directory", env: map[string]string{"XDG_CACHE_HOME": "@"}, want: "polyarch/polyarch-policy.json", shared: true},
		{name: "per process", env: map[string]string{"XDG_CACHE_HOME": "", "HOME": "", "TMPDIR": "@"}, want: "polyarch-policy-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			for k, v := range tc.env {
				t.Setenv(k, strings.ReplaceAll(v, "@", tmp))
			}
			dir := ""
			if tc.dir {
				dir = tmp
			}
			first, err := policyPath(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(first, filepath.Join(tmp, tc.want)) {
				t.Errorf("policy written to %s, want %s", first, filepath.Join(tmp, tc.want))
			}
			if b, err := os.ReadFile(first); err != nil || string(b) != permissivePolicy {
				t.Errorf("policy %s holds %q (%v), want %s", first, b, err, permissivePolicy)
			}
			second, err := policyPath(dir)
			if err != nil {
				t.Fatal(err)
			}
			if (first == second) != tc.shared {
				t.Errorf("two calls wrote %s and %s; shared: want %v", first, second, tc.shared)
			}
		})
	}
}

// TestAuthFiles checks which credentials file containers/image is told
// to read (none: it searches its places) and where login writes.
func TestAuthFiles(t *testing.T) {
	home := t.TempDir()
	rootDefault := filepath.Join(home, ".config", "containers", "auth.json")
	if os.Geteuid() == 0 {
		rootDefault = "/run/containers/0/auth.json"
	}
	for _, tc := range []struct {
		name        string
		given       string
		env         map[string]string
		docker      bool   // ~/.docker/config.json exists
		read, write string // AuthFilePath, DefaultAuthFile()
	}{
		{name: "given", given: "/a.json", read: "/a.json", write: rootDefault},
		{name: "REGISTRY_AUTH_FILE", env: map[string]string{"REGISTRY_AUTH_FILE": "/b.json"}, read: "/b.json", write: "/b.json"},
		{name: "search", write: rootDefault},
		{name: "XDG_RUNTIME_DIR", env: map[string]string{"XDG_RUNTIME_DIR": "/run/user/7"}, write: "/run/user/7/containers/auth.json"},
		{name: "rootless namespace", env: map[string]string{UserNamespaceEnv: "rootless"},
			read: filepath.Join(home, ".config", "containers", "auth.json"), write: filepath.Join(home, ".config", "containers", "auth.json")},
		{name: "rootless namespace, XDG_CONFIG_HOME", env: map[string]string{UserNamespaceEnv: "rootless", "XDG_CONFIG_HOME": "/cfg"},
			read: "/cfg/containers/auth.json", write: "/cfg/containers/auth.json"},
		{name: "rootless namespace, only Docker's file", env: map[string]string{UserNamespaceEnv: "rootless"}, docker: true,
			read: filepath.Join(home, ".docker", "config.json"), write: filepath.Join(home, ".config", "containers", "auth.json")},
		{name: "rootless namespace, XDG_RUNTIME_DIR", env: map[string]string{UserNamespaceEnv: "rootless", "XDG_RUNTIME_DIR": "/run/user/7"},
			write: "/run/user/7/containers/auth.json"},
		{name: "root namespace", env: map[string]string{UserNamespaceEnv: "root"}, write: rootDefault},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			for _, k := range []string{"REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "DOCKER_CONFIG", UserNamespaceEnv} {
				t.Setenv(k, tc.env[k])
			}
			docker := filepath.Join(home, ".docker", "config.json")
			_ = os.RemoveAll(filepath.Dir(docker))
			if tc.docker {
				if err := os.MkdirAll(filepath.Dir(docker), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(docker, []byte(`{"auths":{}}`), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			sys, err := SystemContext(RegistryOptions{AuthFile: tc.given}, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if sys.AuthFilePath != tc.read {
				t.Errorf("AuthFilePath = %q, want %q", sys.AuthFilePath, tc.read)
			}
			if got := DefaultAuthFile(); got != tc.write {
				t.Errorf("DefaultAuthFile() = %q, want %q", got, tc.write)
			}
		})
	}
}
