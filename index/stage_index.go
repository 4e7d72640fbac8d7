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
// part, in order.
func rewriteEntries(raw []byte, parts []*Staged) ([]byte, error) {
	if manifest.GuessMIMEType(raw) == manifest.DockerV2ListMediaType {
		return rewriteDockerList(raw, parts)
	}
	list, err := manifest.OCI1IndexFromManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing index: %w", err)
	}
	if len(list.Manifests) != len(parts) {
		return nil, fmt.Errorf("index lists %d images, %d were staged", len(list.Manifests), len(parts))
	}
	for i, part := range parts {
		m, err := part.topManifest()
		if err != nil {
			return nil, err
		}
		e := &list.Manifests[i]
		e.Digest, e.Size, e.MediaType = digest.FromBytes(m), int64(len(m)), manifest.GuessMIMEType(m)
		if isZstd(m) {
			if e.Annotations == nil {
				e.Annotations = map[string]string{}
			}
			e.Annotations[zstdInstanceAnnotation] = "true"
		}
	}
	return list.Serialize()
}

// rewriteDockerList is rewriteEntries for a Docker manifest list.
func rewriteDockerList(raw []byte, parts []*Staged) ([]byte, error) {
	list, err := manifest.Schema2ListFromManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing manifest list: %w", err)
	}
	if len(list.Manifests) != len(parts) {
		return nil, fmt.Errorf("manifest list lists %d images, %d were staged", len(list.Manifests), len(parts))
	}
	for i, part := range parts {
		m, err := part.topManifest()
		if err != nil {
			return nil, err
		}
		e := &list.Manifests[i]
		e.Digest, e.Size, e.MediaType = digest.FromBytes(m), int64(len(m)), manifest.GuessMIMEType(m)
	}
	return list.Serialize()
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
