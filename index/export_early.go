package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	cp "go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/types"
)

// Prefill writes the blobs of the staged platform image p into the
// prepared layout export st while other platforms still build: hard
// links where the staging directory and the output share a file system,
// copies otherwise. ExportTo then finds them present and writes only the
// manifests and index.json; nothing reaches the destination before
// Commit. An oci-archive export is written whole by ExportTo (its
// transport tars a directory of its own), so Prefill skips it.
func (st *StagedExport) Prefill(p *Staged) error {
	if st.archive {
		return nil
	}
	blobs := filepath.Join(st.staged, v1.ImageBlobsDir, "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return fmt.Errorf("writing OCI output %s: %w", st.dest, err)
	}
	entries, err := os.ReadDir(p.tmp)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || len(name) != 64 || strings.ContainsAny(name, "./") {
			continue // manifest.json, version: not blobs
		}
		if err := linkOrCopy(filepath.Join(p.tmp, name), filepath.Join(blobs, name)); err != nil {
			return fmt.Errorf("writing blob %s to OCI output %s: %w", name, st.dest, err)
		}
	}
	return nil
}

// ExportTo completes the prepared export st from the staged bytes, byte
// for byte, as Export does; Commit st to move it into place.
func (p *Staged) ExportTo(ctx context.Context, st *StagedExport, report io.Writer) error {
	return st.fill(func(dest types.ImageReference) error {
		policy, err := policyContext(p.sys)
		if err != nil {
			return err
		}
		defer func() { _ = policy.Destroy() }()
		_, err = cp.Image(ctx, policy, dest, p.ref, &cp.Options{
			ImageListSelection: cp.CopyAllImages, PreserveDigests: true,
			SourceCtx: p.sys, DestinationCtx: p.sys, ReportWriter: report,
		})
		if err == nil && st.referrers {
			err = p.writeLayoutReferrers(ctx, dest)
		}
		return err
	})
}

// linkOrCopy hard-links from to to, or copies it across file systems; an
// existing to (the same blob, by name) is kept.
func linkOrCopy(from, to string) error {
	err := os.Link(from, to)
	if err == nil || errors.Is(err, os.ErrExist) {
		return nil
	}
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	return writeAtomically(to, src, nil)
}

// writeAtomically writes what r gives to path through a temporary file
// next to it, renamed over path only if check (when set) accepts the
// number of bytes written: path holds all of it or is left as it was.
func writeAtomically(path string, r io.Reader, check func(n int64) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".blob-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // nothing is left there after the rename
	n, err := io.Copy(tmp, r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && check != nil {
		err = check(n)
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
