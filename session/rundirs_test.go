package session

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRemoveDeadRunDirs checks which directories of TMPDIR go: the run
// directories whose lock is free, and those without a lock file older
// than runDirGrace; never a live build's, a young one without a lock,
// nor anything not named polyarch-run-*.
func TestRemoveDeadRunDirs(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	leave, err := EnterRunDir()
	if err != nil {
		t.Fatal(err)
	}
	live := os.Getenv("TMPDIR")
	if filepath.Dir(live) != tmp {
		t.Fatalf("TMPDIR in the build is %s, not a directory of %s", live, tmp)
	}
	mk := func(name string, lock bool, age time.Duration) string {
		dir := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Join(dir, "buildah-context-1", "overlay"), 0o700); err != nil {
			t.Fatal(err)
		}
		if lock {
			if err := os.WriteFile(filepath.Join(dir, runDirLock), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		when := time.Now().Add(-age)
		if err := os.Chtimes(dir, when, when); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	tests := []struct {
		dir  string
		gone bool
	}{
		{live, false},
		{mk(runDirPrefix+"dead", true, 0), true},
		{mk(runDirPrefix+"young-nolock", false, time.Minute), false},
		{mk(runDirPrefix+"old-nolock", false, 2*runDirGrace), true},
		{mk("buildah-context-123", false, 2*runDirGrace), false},
	}
	_ = os.Setenv("TMPDIR", tmp) // as another polyarch would see it
	removed, err := RemoveDeadRunDirs()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		_, statErr := os.Stat(tc.dir)
		if gone := os.IsNotExist(statErr); gone != tc.gone {
			t.Errorf("%s: removed %v, want %v (removed: %v)", filepath.Base(tc.dir), gone, tc.gone, removed)
		}
	}
	_ = os.Setenv("TMPDIR", live)
	leave()
	if _, err := os.Stat(live); !os.IsNotExist(err) {
		t.Errorf("leaving the run directory left %s: %v", live, err)
	}
	if got := os.Getenv("TMPDIR"); got != tmp {
		t.Errorf("TMPDIR after leaving is %q, want %q", got, tmp)
	}
}
