package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyUsageErrors runs verify with wrong flags or arguments: each
// fails with exit 125 before reading anything.
func TestVerifyUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{args: nil, err: "polyarch verify takes exactly one IMAGE, got 0 arguments"},
		{args: []string{"oci:/a", "oci:/b"}, err: "got 2 arguments"},
		{args: []string{"oci:/a", "--format", "yaml"}, err: `invalid --format "yaml": use table or json`},
		{args: []string{"docker://"}, err: "invalid image reference"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := runApp(t, append([]string{"--root", t.TempDir(), "verify"}, tc.args...)...)
			if code != 125 || !strings.Contains(stderr, tc.err) {
				t.Fatalf("error %q (exit %d), want exit 125 with %q", stderr, code, tc.err)
			}
		})
	}
}

// TestVerifyFixtureJSON verifies the fixture's 3-platform oci-archive in
// process and reads the JSON report (POLYARCH_FIXTURES, set by make unit).
func TestVerifyFixtureJSON(t *testing.T) {
	dir := os.Getenv("POLYARCH_FIXTURES")
	if dir == "" {
		t.Fatal("POLYARCH_FIXTURES is not set: run `make unit`")
	}
	code, out, stderr := runApp(t, "verify", "--format", "json", "oci-archive:"+filepath.Join(dir, "busybox-3arch.tar"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		OK     bool
		Images []struct{ Platform string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.OK || len(rep.Images) != 3 || rep.Images[2].Platform != "linux/s390x" {
		t.Errorf("report %+v, want OK with amd64, arm64/v8 and s390x", rep)
	}
}
