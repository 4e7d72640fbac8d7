package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// buildFlagsTable is the side-by-side table of polyarch build's flags
// against podman build's and buildx's.
var buildFlagsTable = filepath.Join("..", "..", "docs", "build-flags.md")

// flagRow is one row of docs/build-flags.md: the flag's spellings and
// whether the polyarch column says polyarch build has it.
type flagRow struct {
	line     int
	cell     string
	names    []string
	polyarch string
}

// flagCell matches the first cell of a flag row: `-f, --file`.
var flagCell = regexp.MustCompile("^`(-[a-zA-Z0-9]|--[a-z0-9.-]+)(, --?[a-zA-Z0-9.-]+)*`$")

// parseFlagRows reads the rows of every table in md whose first cell is
// a flag.
func parseFlagRows(t *testing.T, md string) []flagRow {
	t.Helper()
	var rows []flagRow
	for i, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "| `-") {
			continue
		}
		cells := strings.SplitN(line, "|", 4)
		if len(cells) < 4 {
			t.Fatalf("%s:%d: a flag row needs the columns flag, polyarch, podman build, buildx, notes: %q", buildFlagsTable, i+1, line)
		}
		cell := strings.TrimSpace(cells[1])
		if !flagCell.MatchString(cell) {
			t.Fatalf("%s:%d: flag cell %s is not `--name` or `-x, --name`", buildFlagsTable, i+1, cell)
		}
		var names []string
		for _, n := range strings.Split(strings.Trim(cell, "`"), ", ") {
			names = append(names, strings.TrimLeft(n, "-"))
		}
		rows = append(rows, flagRow{line: i + 1, cell: cell, names: names, polyarch: strings.TrimSpace(cells[2])})
	}
	return rows
}

// flagSpelling is how the table spells a flag: short names first,
// `-f, --file`.
func flagSpelling(names []string) string {
	var short, long []string
	for _, n := range names {
		if len(n) == 1 {
			short = append(short, "-"+n)
		} else {
			long = append(long, "--"+n)
		}
	}
	sort.Strings(short)
	sort.Strings(long)
	return "`" + strings.Join(append(short, long...), ", ") + "`"
}

// visibleFlagNames returns the names of cmd's flags that --help shows,
// by the flag's name.
func visibleFlagNames(cmd *cli.Command) map[string][]string {
	flags := map[string][]string{}
	for _, f := range cmd.Flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		flags[f.Names()[0]] = f.Names()
	}
	return flags
}

// checkFlagTable returns what is wrong in rows for a command with flags
// (by name, each with all its names), each problem saying how to fix it.
func checkFlagTable(flags map[string][]string, rows []flagRow) []string {
	var problems []string
	byName := map[string]flagRow{}
	for _, r := range rows {
		if r.polyarch != "yes" && r.polyarch != "no" {
			problems = append(problems, fmt.Sprintf("line %d: row %s: the polyarch column must be yes or no, not %q", r.line, r.cell, r.polyarch))
		}
		for _, n := range r.names {
			if len(n) == 1 {
				continue // short names repeat: -D is podman's --disable-compression and buildx's --debug
			}
			if prev, dup := byName[n]; dup {
				problems = append(problems, fmt.Sprintf("line %d: --%s has a row already, line %d: merge the two rows", r.line, n, prev.line))
				continue
			}
			byName[n] = r
		}
	}
	problems = append(problems, missingFlagRows(flags, byName)...)
	for _, r := range rows {
		if r.polyarch != "yes" {
			continue
		}
		if _, ok := flags[longName(r.names)]; !ok {
			problems = append(problems, fmt.Sprintf("line %d: row %s says polyarch yes, but polyarch build has no such flag: "+
				"set its polyarch column to no (and say why in notes), or rename the row", r.line, r.cell))
		}
	}
	sort.Strings(problems)
	return problems
}

// missingFlagRows returns a problem for each flag without a row saying
// polyarch yes with all its spellings.
func missingFlagRows(flags map[string][]string, byName map[string]flagRow) []string {
	var problems []string
	for name, names := range flags {
		want := flagSpelling(names)
		r, ok := byName[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("polyarch build has %s but no row says so: add `| %s | yes | PODMAN | BUILDX | NOTES |` to its group, "+
				"with podman build's column (yes, buildah 1.45 or no), buildx's (yes or no) and notes on any difference in meaning", want, want))
		case r.polyarch != "yes":
			problems = append(problems, fmt.Sprintf("line %d: polyarch build has %s: set the polyarch column of row %s to yes and update its notes", r.line, want, r.cell))
		case flagSpelling(r.names) != want:
			problems = append(problems, fmt.Sprintf("line %d: row %s spells the flag differently from polyarch build: write its first cell as %s", r.line, r.cell, want))
		}
	}
	return problems
}

// longName is the first long name of a row: its key.
func longName(names []string) string {
	for _, n := range names {
		if len(n) > 1 {
			return n
		}
	}
	return names[0]
}

// TestBuildFlagsTableMatchesCLI fails when docs/build-flags.md and the
// flags of polyarch build disagree: a flag added or renamed without its
// row, or a row claiming a flag polyarch build lacks.
func TestBuildFlagsTableMatchesCLI(t *testing.T) {
	md, err := os.ReadFile(buildFlagsTable)
	if err != nil {
		t.Fatal(err)
	}
	build := newApp().Command("build")
	if build == nil {
		t.Fatal("the app has no build command")
	}
	flags := visibleFlagNames(build)
	rows := parseFlagRows(t, string(md))
	if len(flags) == 0 || len(rows) < len(flags) {
		t.Fatalf("%d flags of polyarch build, %d rows in %s: one of them was not read", len(flags), len(rows), buildFlagsTable)
	}
	for _, p := range checkFlagTable(flags, rows) {
		t.Errorf("%s: %s", buildFlagsTable, p)
	}
}

// TestCheckFlagTable shows the check catching each kind of drift.
func TestCheckFlagTable(t *testing.T) {
	flags := map[string][]string{"file": {"file", "f"}, "push": {"push"}}
	row := func(line int, polyarch string, names ...string) flagRow {
		return flagRow{line: line, cell: flagSpelling(names), names: names, polyarch: polyarch}
	}
	tests := []struct {
		name string
		rows []flagRow
		want string // a part of the only problem; "" for none
	}{
		{"matching", []flagRow{row(1, "yes", "f", "file"), row(2, "yes", "push"), row(3, "no", "load")}, ""},
		{"flag without row", []flagRow{row(1, "yes", "f", "file")}, "add `| `--push` | yes |"},
		{"row says no", []flagRow{row(1, "yes", "f", "file"), row(2, "no", "push")}, "set the polyarch column of row `--push` to yes"},
		{"alias missing", []flagRow{row(1, "yes", "file"), row(2, "yes", "push")}, "write its first cell as `-f, --file`"},
		{"renamed flag", []flagRow{row(1, "yes", "f", "file"), row(2, "yes", "push"), row(3, "yes", "load")}, "row `--load` says polyarch yes, but polyarch build has no such flag"},
		{"bad value", []flagRow{row(1, "yes", "f", "file"), row(2, "yes", "push"), row(3, "maybe", "load")}, "must be yes or no"},
		{"duplicate", []flagRow{row(1, "yes", "f", "file"), row(2, "yes", "push"), row(3, "no", "push")}, "--push has a row already, line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkFlagTable(flags, tt.rows)
			if tt.want == "" && len(got) != 0 || tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)) {
				t.Fatalf("problems %q, want one containing %q", got, tt.want)
			}
		})
	}
}
