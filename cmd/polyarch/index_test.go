package main

import (
	"bytes"
	"context"
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
		{args: []string{"create", "app:1", "docker://r/a:1", "--bogus"}, err: "unknown flag --bogus"},
		{args: []string{"create", "app:1", "docker://r/a:1", "--platform"}, err: "flag --platform needs a value"},
		{args: []string{"create", "app:1", "docker://r/a:1", "--platform", "windows/amd64"}, err: "unsupported platform"},
		{args: []string{"add", "app:1", "docker://r/a:1", "--replace=maybe"}, err: `invalid value "maybe" for flag --replace=maybe`},
		{args: []string{"annotate", "app:1", "linux/amd64", "--index", "--annotation", "a=b"}, err: "--index annotates the index itself"},
		{args: []string{"annotate", "app:1", "--annotation", "novalue"}, err: `invalid --annotation "novalue"`},
		{args: []string{"push", "app:1", "docker://r/a:1", "--all=false"}, err: "--all=false is not supported"},
		{args: []string{"push", "app:1", "docker://r/a:1", "--format", "v2s1"}, err: `invalid --format "v2s1"`},
		{args: []string{"push", "app:1"}, err: "localhost/app:1 names no registry"},
		{args: []string{"push", "app:1", "docker://"}, err: "invalid image reference"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			app := newApp()
			app.Writer, app.ErrWriter = &bytes.Buffer{}, &bytes.Buffer{}
			err := app.RunContext(context.Background(), append([]string{"polyarch", "--root", t.TempDir(), "index"}, tc.args...))
			if err == nil || exitCode(err) != 125 || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v (exit %d), want exit 125 with %q", err, exitCode(err), tc.err)
			}
		})
	}
}

// TestIndexHelpAfterArguments shows help for --help given after the
// arguments, as podman does.
func TestIndexHelpAfterArguments(t *testing.T) {
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	if err := app.RunContext(context.Background(), []string{"polyarch", "index", "push", "app:1", "oci:/x", "--help"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "--digestfile FILE") {
		t.Errorf("help lacks --digestfile:\n%s", out.String())
	}
}
