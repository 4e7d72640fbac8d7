package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletionScripts checks that each shell parses polyarch's
// completion script and, loaded, completes subcommands and flags by
// asking the binary under test.
func TestCompletionScripts(t *testing.T) {
	dir := t.TempDir()
	path := "PATH=" + filepath.Dir(env.Bin) + ":" + os.Getenv("PATH")
	for _, tc := range []struct {
		shell, check string
		complete     []string // a completion run, then what its output must hold
	}{
		{"bash", "-n", []string{`source "$1"; complete -p polyarch; COMP_WORDS=(polyarch im); COMP_CWORD=1; _polyarch; echo "${COMPREPLY[@]}"; COMP_WORDS=(polyarch build --plat); COMP_CWORD=2; _polyarch; echo "${COMPREPLY[@]}"`,
			"complete -o bashdefault -o default -F _polyarch polyarch", "images", "--platform"}},
		{"zsh", "-n", nil},
		{"fish", "-n", []string{`source $argv[1]; complete -C "polyarch ima"; complete -C "polyarch index cr"`, "images", "create"}},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			if _, err := exec.LookPath(tc.shell); err != nil {
				t.Fatalf("%s is not installed (.ci/setup installs it): %v", tc.shell, err)
			}
			r := runCmd(t, "", env.Bin, "completion", tc.shell)
			mustSucceed(t, r)
			script := filepath.Join(dir, "polyarch."+tc.shell)
			if err := os.WriteFile(script, []byte(r.Stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			mustSucceed(t, runCmd(t, "", tc.shell, tc.check, script))
			if tc.complete == nil {
				return
			}
			args := []string{path, tc.shell, "-c", tc.complete[0]}
			if tc.shell == "bash" {
				args = append(args, "bash")
			}
			r = runCmd(t, "", "env", append(args, script)...)
			mustSucceed(t, r)
			for _, want := range tc.complete[1:] {
				if !strings.Contains(r.Stdout, want) {
					t.Errorf("%s completion printed %q, want it to hold %q", tc.shell, r.Stdout, want)
				}
			}
		})
	}
	t.Run("zsh completes", func(t *testing.T) {
		// zsh's completion system needs a terminal; the function is checked
		// by calling it with compadd stubbed to print its candidates.
		script := filepath.Join(dir, "polyarch.zsh")
		prog := `source $1 2>/dev/null; _describe() { print -l -- "${(@P)2}" }; _files() { print FILES }; ` +
			`words=(polyarch ind); CURRENT=2; _polyarch; words=(polyarch build --ta); CURRENT=3; _polyarch`
		r := runCmd(t, "", "env", path, "zsh", "-c", "compdef() { :; }; "+prog, "zsh", script)
		mustSucceed(t, r)
		for _, want := range []string{"index", "--tag"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("zsh completion printed %q, want it to hold %q", r.Stdout, want)
			}
		}
	})
}

// TestMakeInstall checks that make install puts every file under
// DESTDIR/PREFIX, that the man page renders, and that make uninstall
// removes them all.
func TestMakeInstall(t *testing.T) {
	if rootlessRun {
		t.Skip("make install needs the source tree, which the rootless run does not have (it runs a staged copy of the binary); the root run covers it")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	mustSucceed(t, runCmd(t, repo, "make", "install", "DESTDIR="+dest, "PREFIX=/usr"))
	files := []string{"bin/polyarch", "share/man/man1/polyarch.1", "share/bash-completion/completions/polyarch",
		"share/zsh/site-functions/_polyarch", "share/fish/vendor_completions.d/polyarch.fish"}
	for _, f := range files {
		st, err := os.Stat(filepath.Join(dest, "usr", f))
		if err != nil || st.Size() == 0 {
			t.Errorf("make install did not put %s: %v", f, err)
		}
	}
	r := runCmd(t, "", "env", "MANWIDTH=100", "man", "-l", filepath.Join(dest, "usr/share/man/man1/polyarch.1"))
	mustSucceed(t, r)
	for _, want := range []string{"polyarch(1)", "images", "completion", "--platform"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("man -l polyarch.1 lacks %q", want)
		}
	}
	w := runCmd(t, "", "groff", "-man", "-ww", "-z", filepath.Join(dest, "usr/share/man/man1/polyarch.1"))
	if w.Code != 0 || strings.TrimSpace(w.Stderr) != "" {
		t.Errorf("groff warns about polyarch.1: exit %d: %s", w.Code, w.Stderr)
	}
	mustSucceed(t, runCmd(t, repo, "make", "uninstall", "DESTDIR="+dest, "PREFIX=/usr"))
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dest, "usr", f)); err == nil {
			t.Errorf("make uninstall left %s", f)
		}
	}
}
