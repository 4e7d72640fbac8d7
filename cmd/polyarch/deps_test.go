package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// module is polyarch's module path.
const module = "github.com/polyarch/polyarch"

// TestDependencyRules enforces the package boundaries with `go list
// -deps`, as go-containerregistry's cmd/crane/depcheck_test.go does:
// emulation and session are leaves (no other polyarch package), index
// never imports builder, and nothing imports the command.
func TestDependencyRules(t *testing.T) {
	for _, tc := range []struct {
		pkg       string
		forbidden []string // polyarch packages pkg must not depend on; "*" is all
	}{
		{pkg: "emulation", forbidden: []string{"*"}},
		{pkg: "session", forbidden: []string{"*"}},
		{pkg: "index", forbidden: []string{"builder", "cmd/polyarch"}},
		{pkg: "builder", forbidden: []string{"cmd/polyarch"}},
		{pkg: "images", forbidden: []string{"builder", "cmd/polyarch"}},
	} {
		t.Run(tc.pkg, func(t *testing.T) {
			deps := polyarchDeps(t, module+"/"+tc.pkg)
			if len(deps) == 0 && tc.pkg != "emulation" && tc.pkg != "session" {
				t.Fatalf("go list found no polyarch dependency of %s: the check would prove nothing", tc.pkg)
			}
			for _, dep := range deps {
				for _, f := range tc.forbidden {
					if f == "*" || dep == module+"/"+f || strings.HasPrefix(dep, module+"/"+f+"/") {
						t.Errorf("%s imports %s, which the dependency rules forbid", tc.pkg, dep)
					}
				}
			}
		})
	}
}

// TestNothingImportsTheCommand checks that no package of the module
// depends on cmd/polyarch.
func TestNothingImportsTheCommand(t *testing.T) {
	out := goList(t, "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 4 {
		t.Fatalf("go list listed %d packages of the module, want the whole tree: %s", len(lines), out)
	}
	for _, line := range lines {
		fields := strings.Fields(line)
		for _, imp := range fields[1:] {
			if imp == module+"/cmd/polyarch" {
				t.Errorf("%s imports %s", fields[0], imp)
			}
		}
	}
}

// polyarchDeps returns the module's packages pkg depends on, itself
// excluded.
func polyarchDeps(t *testing.T, pkg string) []string {
	t.Helper()
	var out []string
	for _, dep := range strings.Fields(goList(t, "-deps", pkg)) {
		if dep != pkg && (dep == module || strings.HasPrefix(dep, module+"/")) {
			out = append(out, dep)
		}
	}
	return out
}

// goList runs `go list` with the build's tags and returns its output.
func goList(t *testing.T, args ...string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	args = append([]string{"list", "-tags", "containers_image_openpgp exclude_graphdriver_btrfs osusergo netgo"}, args...)
	cmd := exec.Command(goBin, args...)
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go %s: %v: %s", strings.Join(args, " "), err, msg)
	}
	return string(out)
}
