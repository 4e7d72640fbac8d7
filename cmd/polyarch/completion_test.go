package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestCompletionRequestsKeepTheirOrder checks that a completion request
// reaches urfave/cli as typed: permuting would move the request flag off
// the end, where urfave/cli looks for it.
func TestCompletionRequestsKeepTheirOrder(t *testing.T) {
	for _, args := range [][]string{
		{"polyarch", "build", "-", completionFlag},
		{"polyarch", "build", ".", "--ta", completionFlag},
		{"polyarch", "index", completionFlag},
	} {
		got, err := permuteArgs(newApp(), args)
		if err != nil || !slices.Equal(got, args) {
			t.Errorf("permuteArgs(%q) = %q, %v; want it unchanged", args, got, err)
		}
	}
}

// TestCompletionShells checks each shell's script and the error for
// another shell.
func TestCompletionShells(t *testing.T) {
	for _, tc := range []struct{ shell, want string }{
		{"bash", "complete -o bashdefault -o default -F _polyarch polyarch"},
		{"zsh", "#compdef polyarch"},
		{"fish", "complete -c polyarch -n '__fish_seen_subcommand_from images'"},
	} {
		var out bytes.Buffer
		app := newAppWithOutput(&out, &out)
		if err := app.Run([]string{"polyarch", "completion", tc.shell}); err != nil || !strings.Contains(out.String(), tc.want) {
			t.Errorf("completion %s: %v, output lacks %q", tc.shell, err, tc.want)
		}
	}
	var out bytes.Buffer
	err := newAppWithOutput(&out, &out).Run([]string{"polyarch", "completion", "tcsh"})
	if err == nil || exitCode(err) != 125 || !strings.Contains(err.Error(), "bash, zsh or fish") {
		t.Errorf("completion tcsh: %v (exit %d), want a usage error naming the shells", err, exitCode(err))
	}
}
