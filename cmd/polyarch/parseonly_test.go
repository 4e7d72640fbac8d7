package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// leafCommands returns the full names ("index create") of every command
// with an action.
func leafCommands(prefix string, cmds []*cli.Command) []string {
	var out []string
	for _, c := range cmds {
		name := strings.TrimSpace(prefix + " " + c.Name)
		if c.Action != nil {
			out = append(out, name)
		}
		out = append(out, leafCommands(name, c.Subcommands)...)
	}
	return out
}

// TestParseOnlyEveryCommand runs a valid command line of every command
// with --parse-only: each exits 0 at its checkpoint having done nothing
// (no storage created, no registry reached, no stdin read), and each
// still rejects a bad flag with exit 125. A new command without a
// checkpoint fails here.
func TestParseOnlyEveryCommand(t *testing.T) {
	dir := t.TempDir()
	ctxDir := filepath.Join(dir, "ctx")
	if err := os.MkdirAll(ctxDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "Containerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	valid := map[string][]string{
		"build":               {"build", "--platform", "linux/amd64,linux/arm64", "--push-by-digest", "registry.example.com/app", "--metadata-file", filepath.Join(dir, "md.json"), ctxDir},
		"index create":        {"index", "create", "app:1", "docker://registry.example.com/app:amd64"},
		"index add":           {"index", "add", "app:1", "docker://registry.example.com/app:arm64"},
		"index rm":            {"index", "rm", "app:1", "linux/arm64"},
		"index annotate":      {"index", "annotate", "app:1", "--annotation", "a=b"},
		"index push":          {"index", "push", "--allow-shrink", "app:1", "docker://registry.example.com/app:1"},
		"index inspect":       {"index", "inspect", "docker://registry.example.com/app:1"},
		"info":                {"info", "--format", "json"},
		"emulation status":    {"emulation", "status"},
		"emulation install":   {"emulation", "install", "linux/arm64"},
		"emulation uninstall": {"emulation", "uninstall", "linux/arm64"},
		"copy":                {"copy", "docker://registry.example.com/app:1", "oci:" + filepath.Join(dir, "out")},
		"verify":              {"verify", "docker://registry.example.com/app:1"},
		"login":               {"login", "-u", "ci", "--password-stdin", "registry.example.com"},
		"logout":              {"logout", "registry.example.com"},
		"check-store":         {"check-store"},
		"images":              {"images", "--format", "json"},
		"rmi":                 {"rmi", "--all", "app:1"},
		"prune":               {"prune", "--all", "--force"},
		"tag":                 {"tag", "app:1", "app:2"},
		"completion":          {"completion", "bash"},
		"export":              {"export", "docker://registry.example.com/app:1", "--platform", "linux/arm64", "-o", "type=tar,dest=" + filepath.Join(dir, "rootfs.tar")},
		"key generate":        {"key", "generate", "--output-prefix", filepath.Join(dir, "key")},
	}
	leaves := leafCommands("", newAppWithOutput(io.Discard, io.Discard).Commands)
	for _, name := range leaves {
		t.Run(name, func(t *testing.T) {
			args, ok := valid[name]
			if !ok {
				t.Fatalf("no sample command line for %q: add one, and a parse-only checkpoint to the command", name)
			}
			code, _, stderr := runApp(t, append([]string{"--parse-only", "--root", root}, args...)...)
			if code != 0 || !strings.Contains(stderr, "command line valid") {
				t.Errorf("exit %d, stderr %q: want exit 0 at the parse-only checkpoint", code, stderr)
			}
			bad := slices.Insert(slices.Clone(args), len(strings.Fields(name)), "--no-such-flag")
			if code, _, stderr := runApp(t, append([]string{"--parse-only", "--root", root}, bad...)...); code != 125 {
				t.Errorf("a bad flag: exit %d (%s), want 125", code, stderr)
			}
		})
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("--parse-only created the store %s (stat: %v): it must do no work", root, err)
	}
	if len(leaves) != len(valid) {
		t.Errorf("%d commands, %d sample lines: remove the samples of commands that are gone", len(leaves), len(valid))
	}
}

// TestParseOnlyLeavesStdin checks that login --password-stdin with
// --parse-only does not read the password.
func TestParseOnlyLeavesStdin(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString("secret\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	saved := os.Stdin
	os.Stdin = r
	t.Cleanup(func() { os.Stdin = saved; r.Close() })
	if code, _, stderr := runApp(t, "--parse-only", "login", "-u", "ci", "--password-stdin", "registry.example.com"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b, _ := io.ReadAll(r); string(b) != "secret\n" {
		t.Errorf("stdin holds %q after --parse-only login: it was read", b)
	}
}

// TestParseOnlyKeepsUsageErrors checks that --parse-only runs the same
// checks as the real command: what the command refuses, it refuses too.
func TestParseOnlyKeepsUsageErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Containerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"build", "--platform", "linux/", dir}, "malformed platform"},
		{[]string{"build", "--push-by-digest", "registry.example.com/app:1", dir}, "without tag or digest"},
		{[]string{"build", "--push", dir}, "--push needs"},
		{[]string{"index", "create", "--from-metadata", "oci:" + dir, bad}, "NAME must be REG/REPO:TAG"},
		{[]string{"index", "create", "--from-metadata", "registry.example.com/app:1", bad}, "parsing metadata file"},
		{[]string{"index", "push", "app:1"}, "names no registry"},
		{[]string{"login", "--password-stdin", "registry.example.com"}, "--password-stdin needs --username"},
		{[]string{"copy", "docker://registry.example.com/app:1"}, "takes SOURCE and DESTINATION"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := runApp(t, append([]string{"--parse-only", "--root", t.TempDir()}, tc.args...)...)
			if code != 125 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q: want exit 125 with %q", code, stderr, tc.want)
			}
		})
	}
}
