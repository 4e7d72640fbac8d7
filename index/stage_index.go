package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/directory"
	"go.podman.io/image/v5/manifest"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// zstdInstanceAnnotation marks an index entry whose layers are zstd, as
// containers/image marks it when it copies an index.
const zstdInstanceAnnotation = "io.github.containers.compression.zstd"

// StageIndex stages the stored index id (an OCI index or, for --format
// docker, a Docker manifest list) from parts, its platform images
// already staged one by one (Stage of each image ID, in the index's entry
// order), without reading or compressing any layer again: the parts'
// blobs are hard-linked into the new staging directory, and the index is
// the stored one with each entry's digest, size and media type replaced
// by its staged image's, as containers/image rewrites an index it copies.
// The result is what Stage(id) would have written; the parts stay valid
// and are still the caller's to Close.
func StageIndex(ctx context.Context, store storage.Store, sys *types.SystemContext, id string, parts []*Staged, o StageOptions) (*Staged, error) {
	raw, err := storedManifest(ctx, store, sys, id)
	if err != nil {
		return nil, fmt.Errorf("staging index %s: %w", id, err)
	}
	top, err := rewriteEntries(raw, parts)
	if err != nil {
		return nil, fmt.Errorf("staging index %s: %w", id, err)
	}
	tmp, err := os.MkdirTemp(store.GraphRoot(), "polyarch-stage-")
	if err != nil {
		return nil, fmt.Errorf("creating staging directory: %w", err)
	}
	p := &Staged{tmp: tmp, sys: sys, o: o, pushed: map[string]bool{}}
	err = p.compose(top, parts)
	if err == nil {
		p.ref, err = directory.NewReference(tmp)
	}
	if err == nil {
		err = p.readDigests(ctx)
	}
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("staging index %s: %w", id, err)
	}
	return p, nil
}

// storedManifest returns the manifest of the stored image id as
// containers/image reads it.
func storedManifest(ctx context.Context, store storage.Store, sys *types.SystemContext, id string) ([]byte, error) {
	ref, err := is.Transport.NewStoreReference(store, nil, id)
	if err != nil {
		return nil, err
	}
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	raw, _, err := src.GetManifest(ctx, nil)
	return raw, err
}

// rewriteEntries points each entry of the stored index raw (an OCI
// index, or a Docker manifest list for --format docker) at its staged
// part, in order, and marks zstd entries of an OCI index.
func rewriteEntries(raw []byte, parts []*Staged) ([]byte, error) {
	var list manifest.List
	var oci *manifest.OCI1Index
	var err error
	if manifest.GuessMIMEType(raw) == manifest.DockerV2ListMediaType {
		list, err = manifest.Schema2ListFromManifest(raw)
	} else if oci, err = manifest.OCI1IndexFromManifest(raw); err == nil {
		list = oci
	}
	if err != nil {
		return nil, fmt.Errorf("parsing index: %w", err)
	}
	staged, err := stagedEntries(parts, len(list.Instances()))
	if err != nil {
		return nil, err
	}
	updates := make([]manifest.ListUpdate, len(staged))
	for i, se := range staged {
		updates[i] = manifest.ListUpdate{Digest: se.digest, Size: se.size, MediaType: se.mime}
	}
	if err := list.UpdateInstances(updates); err != nil {
		return nil, err
	}
	if oci != nil {
		for i, se := range staged {
			if e := &oci.Manifests[i]; isZstd(se.raw) {
				if e.Annotations == nil {
					e.Annotations = map[string]string{}
				}
				e.Annotations[zstdInstanceAnnotation] = "true"
			}
		}
	}
	return list.Serialize()
}

// stagedEntry is the manifest of one staged part, as an index lists it.
type stagedEntry struct {
	raw    []byte
	digest digest.Digest
	size   int64
	mime   string
}

// stagedEntries reads the parts' manifests, for an index of listed entries.
func stagedEntries(parts []*Staged, listed int) ([]stagedEntry, error) {
	if listed != len(parts) {
		return nil, fmt.Errorf("index lists %d images, %d were staged", listed, len(parts))
	}
	out := make([]stagedEntry, len(parts))
	for i, part := range parts {
		m, err := part.topManifest()
		if err != nil {
			return nil, err
		}
		out[i] = stagedEntry{raw: m, digest: digest.FromBytes(m), size: int64(len(m)), mime: manifest.GuessMIMEType(m)}
	}
	return out, nil
}

// isZstd reports whether an image manifest has a zstd layer.
func isZstd(raw []byte) bool {
	m, err := manifest.OCI1FromManifest(raw)
	if err != nil {
		return false
	}
	for _, l := range m.Layers {
		if l.MediaType == specs.MediaTypeImageLayerZstd {
			return true
		}
	}
	return false
}

// topManifest returns the staged image manifest (or index).
func (p *Staged) topManifest() ([]byte, error) {
	return os.ReadFile(filepath.Join(p.tmp, "manifest.json"))
}

// compose fills p's directory, in the dir: transport's layout, with top
// as its manifest and every part's blobs and manifest: blobs are
// hard-linked (a blob two parts share is linked once), each part's
// manifest is written as an instance manifest.
func (p *Staged) compose(top []byte, parts []*Staged) error {
	for _, part := range parts {
		m, err := part.topManifest()
		if err != nil {
			return err
		}
		if err := linkBlobs(part.tmp, p.tmp); err != nil {
			return err
		}
		name := digest.FromBytes(m).Encoded() + ".manifest.json"
		if err := os.WriteFile(filepath.Join(p.tmp, name), m, 0o644); err != nil {
			return err
		}
		for k, v := range part.pushed {
			p.pushed[k] = v
		}
	}
	return os.WriteFile(filepath.Join(p.tmp, "manifest.json"), top, 0o644)
}

// linkBlobs hard-links every file of the staged directory from into to,
// but its top manifest; the version file and blobs named by digest come
// along, a name already present is kept.
func linkBlobs(from, to string) error {
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if name == "manifest.json" || strings.HasPrefix(name, "signature-") || e.IsDir() {
			continue
		}
		err := os.Link(filepath.Join(from, name), filepath.Join(to, name))
		if err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("linking staged blob %s: %w", name, err)
		}
	}
	return nil
}
