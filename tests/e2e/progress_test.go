package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// progressContainerfile has three steps after FROM; its first RUN keeps
// an emulated platform busy long enough to dominate the build.
const progressContainerfile = `FROM %s
COPY data.txt /data.txt
RUN i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 3; uname -m > /arch.txt
RUN echo done > /done.txt
`

// summaryRow is one platform's row of the build summary table.
type summaryRow struct {
	steps, run, cached int
	emulated           string
}

// summaryRowRE matches "linux/arm64  5.1s  3  3  0  3.9s (76%)".
var summaryRowRE = regexp.MustCompile(`(?m)^(linux/\S+)\s+\S+s\s+(\d+)\s+(\d+)\s+(\d+)\s+(-|\S+ \(\d+%\))\s*$`)

// parseSummary reads the summary table of a build's stderr.
func parseSummary(t *testing.T, stderr string) map[string]summaryRow {
	t.Helper()
	i := strings.Index(stderr, "PLATFORM")
	if i < 0 || !strings.Contains(stderr[i:], "EMULATED RUN") {
		t.Fatalf("no summary table in stderr:\n%s", stderr)
	}
	rows := map[string]summaryRow{}
	for _, m := range summaryRowRE.FindAllStringSubmatch(stderr[i:], -1) {
		n := func(s string) int { v, _ := strconv.Atoi(s); return v }
		rows[m[1]] = summaryRow{steps: n(m[2]), run: n(m[3]), cached: n(m[4]), emulated: m[5]}
	}
	return rows
}

// TestProgressPlainSummary builds two platforms (arm64 emulated) twice
// with --progress plain: every line is prefixed with its platform, and
// the summary counts three steps run, then three cached; the metadata
// file and the debug timing lines agree. A third, unchanged build takes
// both images from the whole-build cache with the same summary.
func TestProgressPlainSummary(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, strings.Replace(progressContainerfile, "%s", registryBase("latest"), 1), map[string]string{"data.txt": "x\n"})
	md := filepath.Join(t.TempDir(), "md.json")
	build := func(global ...string) result {
		args := append(global, "build", "--progress", "plain", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64", "--metadata-file", md, ctxDir)
		r := polyarch(t, s, args...)
		mustSucceed(t, r)
		return r
	}
	first := build()
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		if !regexp.MustCompile(`(?m)^\[` + p + `\] STEP 3/4: RUN i=0`).MatchString(first.Stdout) {
			t.Errorf("no step line prefixed [%s] in stdout", p)
		}
	}
	rows := parseSummary(t, first.Stderr)
	checkRow(t, "first build", rows, "linux/amd64", summaryRow{3, 3, 0, "-"})
	checkRow(t, "first build", rows, "linux/arm64", summaryRow{3, 3, 0, "emulated"})
	checkHint(t, first.Stderr, md)
	checkMetadataSummary(t, md, 3, 0)

	// A new file no step reads: the whole-build cache misses, buildah's
	// layer cache takes every step.
	if err := os.WriteFile(filepath.Join(ctxDir, "unread"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	second := build("--log-level", "debug")
	rows = parseSummary(t, second.Stderr)
	checkRow(t, "cached rebuild", rows, "linux/amd64", summaryRow{3, 0, 3, "-"})
	checkRow(t, "cached rebuild", rows, "linux/arm64", summaryRow{3, 0, 3, "-"})
	if strings.Contains(second.Stderr, "hint:") {
		t.Errorf("a cached rebuild got a cross-compilation hint")
	}
	checkMetadataSummary(t, md, 0, 3)
	for _, want := range []string{
		"timing: phase=preflight platform=all", "timing: phase=from platform=linux/arm64",
		`timing: phase=step platform=linux/arm64 elapsed=`, `cached=true emulated=true`,
		"timing: phase=build platform=linux/amd64", "timing: phase=assemble platform=all",
	} {
		if !strings.Contains(second.Stderr, want) {
			t.Errorf("debug log lacks %q", want)
		}
	}
	// Unchanged: the whole-build cache, and the same summary.
	third := build("--log-level", "debug")
	rows = parseSummary(t, third.Stderr)
	checkRow(t, "unchanged rebuild", rows, "linux/amd64", summaryRow{3, 0, 3, "-"})
	checkRow(t, "unchanged rebuild", rows, "linux/arm64", summaryRow{3, 0, 3, "-"})
	checkMetadataSummary(t, md, 0, 3)
	if n := strings.Count(third.Stderr, "phase=build-key"); n != 2 || strings.Count(third.Stderr, "hit=true") != 2 || strings.Contains(third.Stderr, "phase=step ") {
		t.Errorf("unchanged rebuild: want both platforms from the whole-build cache and no step run, got %d build-key lines:\n%s", n, third.Stderr)
	}
}

// checkRow compares one platform's row; want.emulated "emulated" means a
// time, not "-".
func checkRow(t *testing.T, when string, rows map[string]summaryRow, p string, want summaryRow) {
	t.Helper()
	got, ok := rows[p]
	if !ok {
		t.Errorf("%s: no summary row for %s in %v", when, p, rows)
		return
	}
	emuOK := got.emulated == want.emulated || (want.emulated == "emulated" && got.emulated != "-")
	if got.steps != want.steps || got.run != want.run || got.cached != want.cached || !emuOK {
		t.Errorf("%s: %s row %+v, want %+v", when, p, got, want)
	}
}

// checkHint asserts the hint names the slow emulated RUN step exactly
// when the metadata file says that step took over half the wall time.
func checkHint(t *testing.T, stderr, md string) {
	t.Helper()
	for _, p := range readBuildMetadata(t, md) {
		slow := p.Build.Slowest
		dominates := slow != nil && slow.Seconds >= 1 && slow.Seconds > p.Build.Wall/2
		hinted := strings.Contains(stderr, "hint: "+p.Platform+" spent")
		if p.Platform == "linux/arm64" && (slow == nil || !strings.Contains(slow.Step, "RUN i=0")) {
			t.Errorf("arm64: slowest emulated RUN %+v, want the loop", slow)
		}
		if dominates != hinted {
			t.Errorf("%s: hint shown %t, but the slowest emulated RUN (%+v) dominating a %.1fs build is %t", p.Platform, hinted, slow, p.Build.Wall, dominates)
		}
		if hinted && !strings.Contains(stderr, "FROM --platform=$BUILDPLATFORM") {
			t.Errorf("hint does not suggest FROM --platform=$BUILDPLATFORM")
		}
	}
}

// platformBuild is the polyarch.build part of a metadata file's platform.
type platformBuild struct {
	Platform string `json:"platform"`
	Build    struct {
		Wall    float64 `json:"wallSeconds"`
		Steps   int     `json:"steps"`
		Run     int     `json:"stepsRun"`
		Cached  int     `json:"stepsCached"`
		Slowest *struct {
			Step    string  `json:"step"`
			Seconds float64 `json:"seconds"`
		} `json:"slowestEmulatedRun"`
	} `json:"polyarch.build"`
}

// readBuildMetadata reads the per-platform build summaries of a metadata file.
func readBuildMetadata(t *testing.T, path string) []platformBuild {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var md struct {
		Platforms []platformBuild `json:"polyarch.platforms"`
	}
	if err := json.Unmarshal(raw, &md); err != nil || len(md.Platforms) != 2 {
		t.Fatalf("metadata file %s: %v, %d platforms:\n%s", path, err, len(md.Platforms), raw)
	}
	return md.Platforms
}

// checkMetadataSummary asserts every platform's step counts in the file.
func checkMetadataSummary(t *testing.T, path string, run, cached int) {
	t.Helper()
	for _, p := range readBuildMetadata(t, path) {
		if b := p.Build; b.Steps != 3 || b.Run != run || b.Cached != cached || b.Wall <= 0 {
			t.Errorf("metadata %s: %+v, want 3 steps, %d run, %d cached", p.Platform, b, run, cached)
		}
	}
}

// TestProgressQuiet: --progress quiet and -q print the ID alone.
func TestProgressQuiet(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN echo hello\n", nil)
	for _, flag := range [][]string{{"--progress", "quiet"}, {"-q"}} {
		r := polyarch(t, s, append(append([]string{"build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64"}, flag...), ctxDir)...)
		mustSucceed(t, r)
		if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).MatchString(r.Stdout) {
			t.Errorf("%v: stdout %q, want the ID alone", flag, r.Stdout)
		}
		for _, noise := range []string{"STEP", "hello", "PLATFORM", "sha256:"} {
			if strings.Contains(r.Stderr, noise) {
				t.Errorf("%v: stderr holds %q:\n%s", flag, noise, r.Stderr)
			}
		}
	}
}

// TestProgressBadValue: an unknown mode is a usage error listing the
// valid ones, before any work.
func TestProgressBadValue(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\n", nil)
	r := polyarch(t, s, "build", "--progress", "tty", ctxDir)
	if r.Code != 125 || !strings.Contains(r.Stderr, `invalid --progress value "tty": use auto, plain or quiet`) {
		t.Errorf("exit %d, stderr %q: want 125 listing auto, plain, quiet", r.Code, r.Stderr)
	}
	if _, err := os.Stat(s.Root); err == nil {
		t.Errorf("a rejected build created the store %s", s.Root)
	}
}

// TestProgressAutoOnTerminal runs a build on a pseudo-terminal (script
// from util-linux): auto draws one status line per platform, redrawn in
// place, instead of prefixed lines, then the summary.
func TestProgressAutoOnTerminal(t *testing.T) {
	if _, err := os.Stat("/usr/bin/script"); err != nil {
		t.Fatalf("script (util-linux) is needed to give the build a terminal: %v", err)
	}
	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN sleep 1; echo hello\n", nil)
	args := append([]string{env.Bin}, s.flags()...)
	args = append(args, "build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64", ctxDir)
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	r := runCmd(t, "", "script", "-q", "-e", "-c", strings.Join(quoted, " "), "/dev/null")
	mustSucceed(t, r)
	out := r.Stdout
	if !strings.Contains(out, "\x1b[2A") {
		t.Errorf("no cursor-up over the two status lines: the board was not redrawn in place")
	}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		if !regexp.MustCompile(`\x1b\[2K` + p + `\s+\[2/2\] RUN sleep 1; echo hello\s+\d+\.\ds`).MatchString(out) {
			t.Errorf("no status line showing %s at [2/2] RUN", p)
		}
		if !regexp.MustCompile(`\x1b\[2K` + p + `\s+done\s+\d+\.\ds`).MatchString(out) {
			t.Errorf("no final status line for %s", p)
		}
		if strings.Contains(out, "["+p+"] STEP") {
			t.Errorf("prefixed step lines of %s on a terminal", p)
		}
	}
	rows := parseSummary(t, strings.ReplaceAll(out, "\r", ""))
	checkRow(t, "terminal build", rows, "linux/arm64", summaryRow{1, 1, 0, "emulated"})
}
