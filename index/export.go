package index

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"go.podman.io/common/libimage/manifests"
	cp "go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/oci/archive"
	"go.podman.io/image/v5/oci/layout"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// ExportOptions configures Staged.Export.
type ExportOptions struct {
	// Archive writes one oci-archive tar file instead of a layout directory.
	Archive bool
	// Dest is the directory or file to write, once the export is complete:
	// an archive replaces the file; a layout gets RefName added (or moved
	// to the new index), its other tags kept.
	Dest string
	// RefName is recorded as org.opencontainers.image.ref.name; default "latest".
	RefName string
	// ReportWriter receives copy progress; nil means silence.
	ReportWriter io.Writer
	// Referrers also writes the referrers attached to the staged result
	// (Staged.Attach) into a layout, as untagged index.json entries whose
	// manifests' subject names a child. Default: not written.
	Referrers bool
}

// StagedExport is a complete export waiting, next to its destination, to
// be renamed into place by Commit.
type StagedExport struct {
	tmp          *stagingDir
	staged, dest string
	archive      bool
	refName      string
	referrers    bool // write the staged referrers too (ExportOptions.Referrers)
}

// stageExport prepares the temporary sibling of o.Dest, lets write fill
// it through ref, and flushes it to disk.
func stageExport(o ExportOptions, write func(ref types.ImageReference) error) (*StagedExport, error) {
	st, err := PrepareExport(o)
	if err != nil {
		return nil, err
	}
	if err := st.fill(write); err != nil {
		st.Discard()
		return nil, err
	}
	return st, nil
}

// PrepareExport creates the temporary sibling of o.Dest, empty, for
// Prefill to put blobs in while the image is still being built and
// Staged.ExportTo to complete; Discard it if the build fails.
func PrepareExport(o ExportOptions) (*StagedExport, error) {
	if o.RefName == "" {
		o.RefName = "latest"
	}
	dest, err := filepath.Abs(o.Dest)
	if err != nil {
		return nil, fmt.Errorf("resolving output %q: %w", o.Dest, err)
	}
	if err := CheckExportDest(dest, o.Archive); err != nil {
		return nil, err
	}
	tmp, err := newStagingDir(dest)
	if err != nil {
		return nil, err
	}
	return &StagedExport{tmp: tmp, staged: filepath.Join(tmp.path, "out"), dest: dest, archive: o.Archive, refName: o.RefName, referrers: o.Referrers}, nil
}

// fill lets write fill the staged export through its reference, then
// flushes it to disk.
func (st *StagedExport) fill(write func(ref types.ImageReference) error) error {
	ref, err := stagingReference(st.archive, st.staged, st.refName)
	if err == nil {
		if err = write(ref); err != nil {
			err = fmt.Errorf("writing OCI output %s: %w", st.dest, err)
		}
	}
	if err == nil {
		if err = syncTree(st.staged); err != nil {
			err = fmt.Errorf("flushing OCI output %s: %w", st.dest, err)
		}
	}
	return err
}

// Commit moves the staged export into place: an archive file replaces
// dest atomically, under its lock (ArchiveLockPath); a layout is merged into dest (created if missing)
// under the layout's lock, its tag added or moved and every other tag
// kept, as skopeo copy and polyarch copy do (see mergeLayout).
func (st *StagedExport) Commit(ctx context.Context) error {
	if st.archive {
		return replaceArchive(ctx, st.staged, st.dest)
	}
	return mergeLayout(ctx, st.staged, st.dest)
}

// Discard removes the temporary directory (and, after Commit, the
// replaced old output). It is safe to call more than once.
func (st *StagedExport) Discard() {
	st.tmp.remove()
}

// CheckExportDest refuses destinations whose replacement would lose data:
// a directory where an archive file goes, a file where a layout goes, or
// a non-empty directory that is not an OCI layout (e.g. "."). A missing
// destination is fine.
func CheckExportDest(dest string, archiveOut bool) error {
	st, err := os.Lstat(dest)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking output %s: %w", dest, err)
	}
	switch {
	case archiveOut && st.IsDir():
		return fmt.Errorf("refusing to replace directory %s with an oci-archive file: give dest= a file path", dest)
	case archiveOut:
		return nil
	case !st.IsDir():
		return fmt.Errorf("refusing to replace file %s with an OCI layout directory: give dest= a new or empty directory, or use type=oci-archive", dest)
	}
	entries, err := os.ReadDir(dest)
	if err != nil {
		return fmt.Errorf("reading output directory %s: %w", dest, err)
	}
	// A layout another polyarch writer is creating has its lock file first.
	if len(entries) > 0 && !fileExists(filepath.Join(dest, "oci-layout")) && !fileExists(filepath.Join(dest, LayoutLockName)) {
		return fmt.Errorf("refusing to replace %s: it is not empty and not an OCI layout (no oci-layout file); give dest= a new or empty directory", dest)
	}
	return nil
}

// stagingReference returns an oci: or oci-archive: reference at path.
func stagingReference(archiveOut bool, path, refName string) (types.ImageReference, error) {
	if archiveOut {
		return archive.NewReference(path, refName)
	}
	return layout.NewReference(path, refName)
}

// copyFromStorage copies the stored index id and all its instances to
// dest, or, if id is a plain image, that image. Layers are compressed as
// sys and dest's transport say.
func copyFromStorage(ctx context.Context, store storage.Store, sys *types.SystemContext, id string, dest types.ImageReference, report io.Writer) error {
	return copyFromStorageAs(ctx, store, sys, id, dest, report, FormatOCI)
}

// copyFromStorageAs is copyFromStorage writing manifests of format
// (FormatOCI or FormatV2S2, see stageFormat).
func copyFromStorageAs(ctx context.Context, store storage.Store, sys *types.SystemContext, id string, dest types.ImageReference, report io.Writer, format string) error {
	listMIME, imageMIME, err := stageFormat(format)
	if err != nil {
		return err
	}
	isList, err := isStoredList(store, id)
	if err != nil {
		return err
	}
	if !isList {
		return copyStoredImage(ctx, store, sys, id, dest, report, imageMIME)
	}
	_, list, err := manifests.LoadFromImage(store, id)
	if err != nil {
		return fmt.Errorf("loading index %s: %w", id, err)
	}
	_, _, err = list.Push(ctx, dest, manifests.PushOptions{
		Store:              store,
		SystemContext:      sys,
		ImageListSelection: cp.CopyAllImages,
		ReportWriter:       report,
		ManifestType:       listMIME,
	})
	return err
}

// isStoredList reports whether the stored image id is an index.
func isStoredList(store storage.Store, id string) (bool, error) {
	raw, err := store.ImageBigData(id, storage.ImageDigestManifestBigDataNamePrefix)
	if err != nil {
		return false, fmt.Errorf("reading manifest of %s in local storage: %w", id, err)
	}
	return manifest.MIMETypeIsMultiImage(manifest.GuessMIMEType(raw)), nil
}

// copyStoredImage copies one stored image to dest with a manifest of
// type mime.
func copyStoredImage(ctx context.Context, store storage.Store, sys *types.SystemContext, id string, dest types.ImageReference, report io.Writer, mime string) error {
	src, err := is.Transport.NewStoreReference(store, nil, id)
	if err != nil {
		return err
	}
	policy, err := policyContext(sys)
	if err != nil {
		return err
	}
	defer func() { _ = policy.Destroy() }()
	_, err = cp.Image(ctx, policy, dest, src, &cp.Options{
		SourceCtx: sys, DestinationCtx: sys, ReportWriter: report, ForceManifestMIMEType: mime,
	})
	return err
}

// replace renames the staged archive file over dest, atomically
// (CheckExportDest refused a directory there), and fsyncs the parent.
func replace(staged, dest string) error {
	if err := os.Rename(staged, dest); err != nil {
		return fmt.Errorf("moving finished output into %s: %w", dest, err)
	}
	return syncDir(filepath.Dir(dest))
}

// syncTree fsyncs every file and directory under root, several at a
// time: a journaling file system commits fsyncs that wait together in
// one transaction, where one after another each waits for its own.
// Everything is synced when it returns nil.
func syncTree(root string) error {
	var paths []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink == 0 {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return eachInParallel(len(paths), parallelSyncs, func(i int) error { return syncDir(paths[i]) })
}

// parallelSyncs is how many fsyncs syncTree has waiting at once.
const parallelSyncs = 16

// syncDir fsyncs one file or directory.
func syncDir(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
