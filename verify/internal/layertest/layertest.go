// Package layertest makes the layers and ELF samples that the tests of
// verify and verify/check read: tar layers written entry by entry, and
// the first bytes of the fixture busybox binaries.
package layertest

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// File is one tar entry of a test layer: a regular file with Data, a
// directory (Name ending in /), a symlink (Link set) or a hard link (Hard
// set).
type File struct {
	Name, Data, Link, Hard string
}

// Tar returns the uncompressed tar of files, in order.
func Tar(t testing.TB, files []File) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.Name, Mode: 0o755, Typeflag: tar.TypeReg, Size: int64(len(f.Data))}
		switch {
		case f.Link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, f.Link, 0
		case f.Hard != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, f.Hard, 0
		case f.Name[len(f.Name)-1] == '/':
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.Data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Busybox returns the first 4 KiB of the fixture busybox-static binary of
// a Debian architecture, from POLYARCH_FIXTURE_ROOTFS (set by make unit;
// tests/fixtures/make-bases.sh fills it).
func Busybox(t testing.TB, deb string) []byte {
	t.Helper()
	dir := os.Getenv("POLYARCH_FIXTURE_ROOTFS")
	if dir == "" {
		t.Fatal("POLYARCH_FIXTURE_ROOTFS is not set: run `make unit`")
	}
	data, err := os.ReadFile(filepath.Join(dir, deb, "busybox"))
	if err != nil {
		t.Fatalf("reading fixture busybox: %v (run tests/fixtures/make-bases.sh)", err)
	}
	return data[:4096]
}
