package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/types"
	"golang.org/x/sys/unix"
)

// Writing into an OCI layout: containers/image's layout destination reads
// index.json when it opens and writes it back with os.WriteFile when it
// commits, so two writers lose each other's tags and a kill mid-write
// tears the file (skopeo#1018). polyarch never lets it write a shared
// layout: every write goes to a private staging layout next to the
// destination, then mergeLayout moves the blobs in and adds the new
// index.json entries under the layout's lock (LayoutLockName).

// writeLayout runs write against a private staging layout next to the
// oci: destination dst, then merges what it wrote into dst. A tag of dst
// already present is moved to the new manifest; every other entry stays.
func writeLayout[T any](ctx context.Context, dst types.ImageReference, write func(staged types.ImageReference) (T, error)) (T, error) {
	var zero T
	dir, tag := layoutPathAndTag(dst)
	st, err := newLayoutStaging(dir)
	if err != nil {
		return zero, err
	}
	defer st.discard()
	staged, err := layout.NewReference(st.path, tag)
	if err != nil {
		return zero, err
	}
	out, err := write(staged)
	if err != nil {
		return zero, err
	}
	if err := syncTree(st.path); err != nil {
		return zero, fmt.Errorf("flushing the staged copy for OCI layout %s: %w", st.dest, err)
	}
	if err := mergeLayout(ctx, st.path, st.dest); err != nil {
		return zero, err
	}
	return out, nil
}

// layoutPathAndTag splits an oci: reference into its directory and tag,
// as containers/image does (at the first colon).
func layoutPathAndTag(ref types.ImageReference) (string, string) {
	dir, tag, _ := strings.Cut(ref.StringWithinTransport(), ":")
	return dir, tag
}

// layoutStaging is a private staging layout, a hidden sibling of dest.
type layoutStaging struct {
	tmp        *stagingDir
	path, dest string
}

// newLayoutStaging checks that dest may hold a layout and creates a
// staging directory next to it, on the same file system.
func newLayoutStaging(dir string) (*layoutStaging, error) {
	dest, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving OCI layout %q: %w", dir, err)
	}
	if err := CheckExportDest(dest, false); err != nil {
		return nil, err
	}
	tmp, err := newStagingDir(dest)
	if err != nil {
		return nil, err
	}
	return &layoutStaging{tmp: tmp, path: filepath.Join(tmp.path, "layout"), dest: dest}, nil
}

// discard removes the staging directory.
func (s *layoutStaging) discard() { s.tmp.remove() }

// mergeLayout moves the blobs of the layout staged into the layout dest
// (created if missing) and adds staged's index.json entries to dest's,
// under dest's lock. Blobs are renamed in before index.json is replaced
// atomically, so a reader or a crash never sees an entry whose blobs are
// missing, nor a torn index.json.
func mergeLayout(ctx context.Context, staged, dest string) error {
	lock, err := lockLayout(ctx, dest)
	if err != nil {
		return err
	}
	defer lock.unlock()
	if err := CheckExportDest(dest, false); err != nil {
		return err
	}
	if err := moveBlobs(filepath.Join(staged, v1.ImageBlobsDir), filepath.Join(dest, v1.ImageBlobsDir)); err != nil {
		return fmt.Errorf("moving blobs into OCI layout %s: %w", dest, err)
	}
	added, err := readIndexFile(filepath.Join(staged, v1.ImageIndexFile), true)
	if err != nil {
		return err
	}
	current, err := readIndexFile(filepath.Join(dest, v1.ImageIndexFile), false)
	if err != nil {
		return err
	}
	current.Manifests = mergeEntries(current.Manifests, added.Manifests)
	return lock.writeIndex(current)
}

// writeIndex writes the oci-layout marker (if needed) and index.json.
func (l *layoutLock) writeIndex(idx *v1.Index) error {
	raw, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	marker, err := json.Marshal(v1.ImageLayout{Version: v1.ImageLayoutVersion})
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(filepath.Join(l.dir, v1.ImageLayoutFile)); err != nil || string(old) != string(marker) {
		if err := l.writeAtomic(v1.ImageLayoutFile, marker); err != nil {
			return err
		}
	}
	return l.writeAtomic(v1.ImageIndexFile, raw)
}

// readIndexFile decodes an index.json; a missing file is an empty index
// unless required.
func readIndexFile(path string, required bool) (*v1.Index, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !required {
		return &v1.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageIndex, Manifests: []v1.Descriptor{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var idx v1.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("parsing %s: %w (it is not a valid OCI index: repair or remove that layout)", path, err)
	}
	return &idx, nil
}

// mergeEntries adds each entry of added to current: an entry with a tag
// (org.opencontainers.image.ref.name) replaces the entries holding that
// tag, an untagged one replaces untagged entries of the same digest.
func mergeEntries(current, added []v1.Descriptor) []v1.Descriptor {
	for _, e := range added {
		tag := e.Annotations[v1.AnnotationRefName]
		current = slices.DeleteFunc(current, func(c v1.Descriptor) bool {
			ctag := c.Annotations[v1.AnnotationRefName]
			return (tag != "" && ctag == tag) || (ctag == "" && c.Digest == e.Digest)
		})
		current = append(current, e)
	}
	return current
}

// moveBlobs renames every blob under from (blobs/ALG/HEX) to the same
// place under to, unless to already holds it, and fsyncs the directories
// changed. Blobs are named by their digest, so one already there is the
// same content.
func moveBlobs(from, to string) error {
	algs, err := os.ReadDir(from)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, alg := range algs {
		if err := moveAlgBlobs(filepath.Join(from, alg.Name()), filepath.Join(to, alg.Name())); err != nil {
			return err
		}
	}
	return syncDir(to)
}

// moveAlgBlobs moves the blobs of one digest algorithm's directory.
func moveAlgBlobs(from, to string) error {
	files, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		target := filepath.Join(to, f.Name())
		if _, err := os.Lstat(target); err == nil {
			continue
		}
		if err := moveFile(filepath.Join(from, f.Name()), target); err != nil {
			return err
		}
	}
	return syncDir(to)
}

// moveFile renames src to dst, or copies it (then fsyncs and renames the
// copy into place) across file systems.
func moveFile(src, dst string) error {
	err := os.Rename(src, dst)
	if !errors.Is(err, unix.EXDEV) {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(dst), "."+tempMarker+"*")
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(out.Name(), dst)
	}
	if err != nil {
		_ = os.Remove(out.Name())
	}
	return err
}
