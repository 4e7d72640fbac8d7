package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// manPage is the generated polyarch(1) man page, installed by `make
// install` and checked for drift like docs/cli.md.
var manPage = filepath.Join("..", "..", "docs", "polyarch.1")

// TestManPageUpToDate fails when docs/polyarch.1 differs from what the
// app generates (urfave/cli's ToManWithSection(1): the CLI reference as
// roff); `make docs` (UPDATE_DOCS=1) rewrites it.
func TestManPageUpToDate(t *testing.T) {
	want, err := newApp().ToManWithSection(1)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{".TH polyarch 1", ".SH images", ".SH rmi", ".SH prune", ".SH tag", ".SH completion"} {
		if !strings.Contains(want, s) {
			t.Fatalf("the generated man page lacks %q", s)
		}
	}
	if os.Getenv("UPDATE_DOCS") == "1" {
		if err := os.WriteFile(manPage, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(manPage)
	if err != nil || string(got) != want {
		t.Fatalf("docs/polyarch.1 is out of date with the CLI: run `make docs` (%v)", err)
	}
}
