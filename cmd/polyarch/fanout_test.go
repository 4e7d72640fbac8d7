package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFanoutFlagsRejected checks that contradictory or malformed fan-out
// flags of build and index create exit 125 naming the flag, before any
// work (no store is created).
func TestFanoutFlagsRejected(t *testing.T) {
	ctxDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctxDir, "Containerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badMetadata := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(badMetadata, []byte(`{"image.name": "x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "root")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"push-by-digest with a tag", []string{"build", "--push-by-digest", "quay.io/you/app:1", ctxDir}, "without tag or digest"},
		{"push-by-digest without registry", []string{"build", "--push-by-digest", "app", ctxDir}, "names no registry"},
		{"push-by-digest malformed", []string{"build", "--push-by-digest", "Bad Name", ctxDir}, "--push-by-digest"},
		{"allow-shrink without a push", []string{"build", "--allow-shrink", "-t", "app:1", ctxDir}, "--allow-shrink applies only to --push"},
		{"allow-shrink with a layout output", []string{"build", "--allow-shrink", "-o", "type=oci,dest=" + filepath.Join(t.TempDir(), "lay"), ctxDir}, "--allow-shrink applies only to --push"},
		{"allow-shrink with push-by-digest", []string{"build", "--allow-shrink", "--push-by-digest", "quay.io/you/app", ctxDir}, "--push-by-digest writes no tag"},
		{"merge with --amend", []string{"index", "create", "--from-metadata", "--amend", "reg.example/app:1", badMetadata}, "--amend"},
		{"allow-shrink into local storage", []string{"index", "create", "--allow-shrink", "app:1", "oci:/nonexistent"}, "--allow-shrink applies"},
		{"merge into a layout", []string{"index", "create", "--from-metadata", "oci:/tmp/x", badMetadata}, "must be REG/REPO:TAG"},
		{"metadata without digest", []string{"index", "create", "--from-metadata", "reg.example/app:1", badMetadata}, "no containerimage.digest"},
		{"merge without source", []string{"index", "create", "--from-metadata", "reg.example/app:1"}, "at least one SOURCE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runApp(t, append([]string{"--root", root}, tc.args...)...)
			if code != 125 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q: want 125 and %q", code, stderr, tc.want)
			}
			if _, err := os.Stat(root); err == nil {
				t.Errorf("a usage error created the store %s", root)
			}
		})
	}
}
