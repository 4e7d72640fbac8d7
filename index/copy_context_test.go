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
