package builder

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"go.podman.io/buildah/pkg/parse"
	"go.podman.io/storage/pkg/fileutils"
)

// contextDigest hashes what a build can read of its context directory:
// every entry buildah's ignore rules leave in (the same ignore file,
// found as imagebuildah finds it, and the same matcher its COPY uses),
// with its relative path, type, mode, owner, size, symlink target and
// content. Times are left out, as buildah's layer cache leaves them out
// of the digest it compares for COPY and ADD (digester.go,
// modifyTarHeaderForDigesting): a file only touched is a cache hit for
// buildah too, which keeps the cached layer. It errs on the side of a
// different digest:
// an entry it cannot read, or an ignore file it cannot parse, is an
// error (the caller then builds as usual).
func contextDigest(contextDir, ignoreFile, containerfile string) (string, error) {
	excludes, usedIgnore, err := parse.ContainerIgnoreFile(contextDir, ignoreFile, []string{containerfile})
	if err != nil {
		return "", fmt.Errorf("reading the ignore file: %w", err)
	}
	pm, err := fileutils.NewPatternMatcher(excludes)
	if err != nil {
		return "", fmt.Errorf("reading the ignore patterns: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "ignorefile %q\n", usedIgnore)
	for _, e := range excludes {
		fmt.Fprintf(h, "exclude %q\n", e)
	}
	root, err := filepath.Abs(contextDir)
	if err != nil {
		return "", err
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if rel != "." {
			excluded, err := pm.Matches(filepath.ToSlash(rel)) //nolint:staticcheck // the call buildah's copier makes
			if err != nil {
				return err
			}
			if excluded && d.IsDir() && !pm.Exclusions() {
				return filepath.SkipDir // nothing below can be let in again
			}
			if excluded {
				return nil
			}
		}
		return hashEntry(h, path, rel)
	})
	if err != nil {
		return "", fmt.Errorf("reading build context %s: %w", contextDir, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashEntry writes one context entry's metadata and, for a regular file,
// its content into h.
func hashEntry(h hash.Hash, path, rel string) error {
	st, err := os.Lstat(path)
	if err != nil {
		return err
	}
	var uid, gid uint32
	var rdev uint64
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		uid, gid, rdev = sys.Uid, sys.Gid, uint64(sys.Rdev)
	}
	fmt.Fprintf(h, "entry %q mode=%o uid=%d gid=%d size=%d rdev=%d", rel, uint32(st.Mode()), uid, gid, st.Size(), rdev)
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, " link=%q\n", target)
	case st.Mode().IsRegular():
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		fh := sha256.New()
		n, err := io.Copy(fh, f)
		if err != nil {
			return err
		}
		if n != st.Size() {
			return fmt.Errorf("%s changed while it was read", rel)
		}
		fmt.Fprintf(h, " sha256=%x\n", fh.Sum(nil))
	default:
		fmt.Fprintln(h)
	}
	return nil
}
