package e2e

import (
	"archive/tar"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// checkArchive reads the oci-archive file at path as a reader would, and
// returns the ref names its index.json lists. Every blob must match its
// digest and index.json must be there: a torn or interleaved archive
// fails. A missing file returns nil, nil.
func checkArchive(path string) ([]string, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	seenIndex := false
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar: %w", err)
		}
		switch {
		case h.Name == "index.json":
			var idx specs.Index
			if err := json.NewDecoder(tr).Decode(&idx); err != nil {
				return nil, fmt.Errorf("index.json: %w", err)
			}
			for _, m := range idx.Manifests {
				names = append(names, m.Annotations[specs.AnnotationRefName])
			}
			seenIndex = true
		case strings.HasPrefix(h.Name, "blobs/sha256/") && h.Typeflag == tar.TypeReg:
			sum := sha256.New()
			if _, err := io.Copy(sum, tr); err != nil {
				return nil, fmt.Errorf("reading %s: %w", h.Name, err)
			}
			if got := hex.EncodeToString(sum.Sum(nil)); got != strings.TrimPrefix(h.Name, "blobs/sha256/") {
				return nil, fmt.Errorf("blob %s has digest %s", h.Name, got)
			}
		}
	}
	if !seenIndex {
		return nil, fmt.Errorf("no index.json")
	}
	return names, nil
}

// TestArchiveConcurrentWriters runs 6 writers of different images into
// one oci-archive path at once (copies of three images of 8-24 MiB, an
// index push and a build -o type=oci-archive), twice, while a reader
// checks the path over and over: every writer exits 0, the reader only
// ever sees no file or a complete archive, the final archive is one
// writer's whole (skopeo copies it, checking every digest), no staging
// file is left, and a later writer replaces it cleanly.
func TestArchiveConcurrentWriters(t *testing.T) {
	s := newStore(t)
	for i, mib := range []int{8, 16, 24} {
		data := make([]byte, mib<<20)
		if _, err := rand.Read(data); err != nil {
			t.Fatal(err)
		}
		ctxDir := writeContext(t, "FROM scratch\nCOPY big /big\n", map[string]string{"big": string(data)})
		mustSucceed(t, polyarch(t, s, "build", "--quiet", "--pull=never", "-t", fmt.Sprintf("localhost/big%d", i), ctxDir))
	}
	mustSucceed(t, polyarch(t, s, "index", "create", "localhost/archidx:1", fixtureIndex()))
	buildCtx := writeContext(t, "FROM scratch\nCOPY Containerfile /\n", nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "same.tar")
	for round := 0; round < 2; round++ {
		os.Remove(path)
		writers := [][]string{
			{"copy", "--quiet", "localhost/big0", "oci-archive:" + path + ":w0"},
			{"copy", "--quiet", "localhost/big1", "oci-archive:" + path + ":w1"},
			{"copy", "--quiet", "localhost/big2", "oci-archive:" + path + ":w2"},
			{"copy", "--quiet", "localhost/big2", "oci-archive:" + path + ":w3"},
			{"index", "push", "--quiet", "localhost/archidx:1", "oci-archive:" + path + ":w4"},
			{"build", "--quiet", "--pull=never", "-t", "w5", "-o", "type=oci-archive,dest=" + path, buildCtx},
		}
		var done atomic.Bool
		var readerErr error
		reads := 0
		var readerWG sync.WaitGroup
		readerWG.Add(1)
		go func() {
			defer readerWG.Done()
			for !done.Load() && readerErr == nil {
				if _, err := checkArchive(path); err != nil {
					readerErr = err
				}
				reads++
				time.Sleep(5 * time.Millisecond)
			}
		}()
		var wg sync.WaitGroup
		results := make([]result, len(writers))
		for i, args := range writers {
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = polyarch(t, s, args...) }()
		}
		wg.Wait()
		done.Store(true)
		readerWG.Wait()
		for i, r := range results {
			if r.Code != 0 {
				t.Errorf("round %d: writer %d (%s) exit %d: %s", round, i, strings.Join(writers[i], " "), r.Code, r.Stderr)
			}
		}
		if readerErr != nil {
			t.Fatalf("round %d: a reader saw a torn archive at %s while writers ran: %v", round, path, readerErr)
		}
		names, err := checkArchive(path)
		if err != nil || len(names) != 1 {
			t.Fatalf("round %d: final archive: names %v, %v; want one writer's whole archive", round, names, err)
		}
		// build -o names its entry after its -t tag's name, "latest" by default
		if !slices.Contains([]string{"w0", "w1", "w2", "w3", "w4", "latest", "w5"}, names[0]) {
			t.Fatalf("round %d: final archive lists %q, which no writer wrote", round, names[0])
		}
		mustSucceed(t, skopeo(t, "inspect", "--raw", "oci-archive:"+path))
		mustSucceed(t, skopeo(t, "copy", "--all", "oci-archive:"+path, "dir:"+filepath.Join(t.TempDir(), "x")))
		t.Logf("round %d: %s won; the reader checked the path %d times", round, names[0], reads)
		assertOnlyArchive(t, dir)
	}
	mustSucceed(t, polyarch(t, s, "copy", "--quiet", "localhost/big0", "oci-archive:"+path+":last"))
	if names, err := checkArchive(path); err != nil || strings.Join(names, ",") != "last" {
		t.Fatalf("after a later writer: archive lists %v (%v), want only last", names, err)
	}
	assertOnlyArchive(t, dir)
}

// assertOnlyArchive checks dir holds the archive and its lock file, and
// no staging file of any writer.
func assertOnlyArchive(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != ".same.tar.lock,same.tar" {
		t.Fatalf("%s holds %v, want the archive and its lock .same.tar.lock only", dir, got)
	}
}
