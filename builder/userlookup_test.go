package builder

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCopyRegular reads user files as the lookup helper does: a FIFO, a
// directory and an oversized file are refused at once, never opened for
// reading (a FIFO would block).
func TestCopyRegular(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "passwd")
	if err := os.WriteFile(regular, []byte("app:x:1000:1000::/home/app:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, nil, 0o644); err != nil || os.Truncate(big, lookupSizeCap+1) != nil {
		t.Fatalf("making %s: %v", big, err)
	}
	for _, tc := range []struct {
		name, path, problem, content string
	}{
		{"regular", regular, "", "app:x:1000"},
		{"fifo", fifo, "is a named pipe (FIFO), not a regular file", ""},
		{"directory", dir, "is a directory, not a regular file", ""},
		{"oversized", big, "more than the 4194304 a user or group file may have", ""},
		{"missing", filepath.Join(dir, "none"), "cannot be opened: no such file or directory", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			problem := copyRegular(&out, tc.path)
			if tc.problem == "" && problem != "" || !strings.Contains(problem, tc.problem) {
				t.Errorf("problem %q, want %q", problem, tc.problem)
			}
			if !strings.HasPrefix(out.String(), tc.content) || tc.content == "" && out.Len() > 0 {
				t.Errorf("copied %q, want %q", out.String(), tc.content)
			}
		})
	}
}

// TestLookupRefusals reads back a report with a repeated refusal once.
func TestLookupRefusals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report")
	report := "/r1\t/etc/passwd\tis a named pipe (FIFO), not a regular file\n" +
		"/r2\t/etc/passwd\tis a named pipe (FIFO), not a regular file\n/r2\t/etc/group\tis a directory, not a regular file\n"
	if err := os.WriteFile(path, []byte(report), 0o600); err != nil {
		t.Fatal(err)
	}
	got := lookupRefusals(path)
	want := []string{"/etc/passwd is a named pipe (FIFO), not a regular file", "/etc/group is a directory, not a regular file"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("refusals %q, want %q", got, want)
	}
}
