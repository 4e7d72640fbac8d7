package main

import (
	"strings"
	"testing"
)

// TestIndexUsageErrors runs index subcommands whose flags or arguments
// are wrong: each fails with exit 125 before opening local storage.
func TestIndexUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{args: []string{"rm", "app:1"}, err: "polyarch index rm takes 2 arguments, got 1"},
		{args: []string{"create", "app:1"}, err: "takes at least 2 arguments"},
		{args: []string{"create", "app:1", "docker://r/a:1", "--bogus"}, err: "flag provided but not defined: -bogus"},
		{args: []string{"create", "app:1", "docker://r/a:1", "--platform"}, err: "flag --platform needs a value"},
		{args: []string{"create", "app:1", "docker://r/a:1", "--platform", "windows/amd64"}, err: "unsupported platform"},
		{args: []string{"add", "app:1", "docker://r/a:1", "--replace=maybe"}, err: `invalid boolean value "maybe" for -replace`},
		{args: []string{"annotate", "app:1", "linux/amd64", "--index", "--annotation", "a=b"}, err: "--index annotates the index itself"},
		{args: []string{"annotate", "app:1", "--annotation", "novalue"}, err: `invalid --annotation "novalue"`},
		{args: []string{"push", "app:1", "docker://r/a:1", "--all=false"}, err: "--all=false is not supported"},
		{args: []string{"push", "app:1", "docker://r/a:1", "--format", "v2s1"}, err: `invalid --format "v2s1"`},
		{args: []string{"push", "app:1"}, err: "localhost/app:1 names no registry"},
		{args: []string{"push", "app:1", "docker://"}, err: "invalid image reference"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := runApp(t, append([]string{"--root", t.TempDir(), "index"}, tc.args...)...)
			if code != 125 || !strings.Contains(stderr, tc.err) {
				t.Fatalf("error %q (exit %d), want exit 125 with %q", stderr, code, tc.err)
			}
		})
	}
}

// TestIndexHelpAfterArguments shows help for --help given after the
// arguments, as podman does.
func TestIndexHelpAfterArguments(t *testing.T) {
	code, out, stderr := runApp(t, "index", "push", "app:1", "oci:/x", "--help")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "--digestfile FILE") {
		t.Errorf("help lacks --digestfile:\n%s", out)
	}
}
