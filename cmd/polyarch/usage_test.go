package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// usageCase is a set of build flags that must be refused as a usage
// error, and what the message must say.
type usageCase struct {
	name string
	args []string
	want string
}

// scratchContext returns a build context holding FROM scratch.
func scratchContext(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Containerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkBuildUsageErrors runs `polyarch build --platform linux/amd64 ARGS
// ctxDir` for every case: each must exit 125 with its message, before
// any work (no store is created). One platform: index annotations need
// two; nothing else depends on it.
func checkBuildUsageErrors(t *testing.T, ctxDir string, cases []usageCase) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--root", root, "build", "--platform", "linux/amd64"}
			code, _, stderr := runApp(t, append(append(args, tc.args...), ctxDir)...)
			if code != 125 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q: want 125 and %q", code, stderr, tc.want)
			}
			if _, err := os.Stat(root); err == nil {
				t.Fatalf("a usage error created the store %s", root)
			}
		})
	}
}
