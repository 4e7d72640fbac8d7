package builder

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestArchiveDirsUnpackOnce reads one OCI archive from several goroutines:
// it is untarred once, into one directory under the parent, and every
// reference reads the archive's index from there.
func TestArchiveDirsUnpackOnce(t *testing.T) {
	fixtures := os.Getenv("POLYARCH_FIXTURES")
	if fixtures == "" {
		t.Fatal("POLYARCH_FIXTURES is not set: run `make unit` (it builds the fixtures)")
	}
	archive := filepath.Join(fixtures, "busybox-oci.tar")
	parent := t.TempDir()
	a := newArchiveDirs(parent)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			ref, err := a.reference(archive, "latest")
			if err != nil {
				errs[i] = err
				return
			}
			src, err := ref.NewImageSource(context.Background(), nil)
			if err != nil {
				errs[i] = err
				return
			}
			defer src.Close()
			_, _, errs[i] = src.GetManifest(context.Background(), nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("reader %d: %v", i, err)
		}
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("%d directories under %s, want 1 (one untar per archive)", len(entries), parent)
	}
	if _, err := a.reference(filepath.Join(parent, "missing.tar"), ""); err == nil {
		t.Error("a missing archive gave no error")
	}
}
