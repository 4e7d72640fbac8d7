package index

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/types"
)

// carryReferrers copies the referrers of every child (provenance and
// other OCI 1.1 artifacts) from where the child was read into the
// merge's destination repository, blobs then manifest by digest, and
// lists each there: nothing more with the referrers API, else in the
// child's sha256-<hex> referrers tag. Children read from the
// destination's own repository keep the referrers they have.
func (m *merge) carryReferrers(ctx context.Context, target types.ImageDestination, cache types.BlobInfoCache, children []mergeChild, report io.Writer) error {
	destRepo := reference.TrimNamed(m.dest.DockerReference())
	for _, c := range children {
		from := c.source.Reference()
		if from.Transport().Name() == "docker" && from.DockerReference() != nil && reference.TrimNamed(from.DockerReference()).String() == destRepo.String() {
			continue
		}
		descs, err := referrersAt(ctx, m.sys, from, c.source, c.digest)
		if err != nil {
			return fmt.Errorf("listing the referrers of %s (%s) in %s: %w", c.digest, emulation.FormatPlatform(c.platform), locationName(from), err)
		}
		for _, d := range descs {
			if err := copyReferrer(ctx, c.source, target, cache, d, report); err != nil {
				return fmt.Errorf("copying referrer %s of %s (%s): %w", d.Digest, c.digest, emulation.FormatPlatform(c.platform), err)
			}
			if err := register(ctx, m.sys, destRepo, c.digest, d, report); err != nil {
				return fmt.Errorf("listing referrer %s of %s in %s: %w", d.Digest, c.digest, destRepo, err)
			}
		}
	}
	return nil
}

// copyReferrer copies the artifact manifest d and its blobs from source
// to target, byte for byte.
func copyReferrer(ctx context.Context, source types.ImageSource, target types.ImageDestination, cache types.BlobInfoCache, d specs.Descriptor, report io.Writer) error {
	dd := d.Digest
	raw, mime, err := source.GetManifest(ctx, &dd)
	if err != nil {
		return err
	}
	if digest.FromBytes(raw) != dd {
		return fmt.Errorf("the source returned a manifest with digest %s", digest.FromBytes(raw))
	}
	man, err := manifest.FromBlob(raw, mime)
	if err != nil {
		return err
	}
	if err := putBlobs(ctx, source, target, cache, []child{{digest: dd, raw: raw, blobs: manifestBlobs(man)}}, false, report); err != nil {
		return err
	}
	if err := target.PutManifest(ctx, raw, &dd); err != nil {
		return err
	}
	progress(report, "Writing referrer %s (%s)\n", dd, d.ArtifactType)
	return nil
}

// referrersAt lists the referrers of subject where src reads from ref: a
// registry repository (referrers API or tag) or an OCI layout (its
// index.json's manifests whose subject is it). Descriptors carry the
// artifact type and annotations, as a referrers list does.
func referrersAt(ctx context.Context, sys *types.SystemContext, ref types.ImageReference, src types.ImageSource, subject digest.Digest) ([]specs.Descriptor, error) {
	switch ref.Transport().Name() {
	case "docker":
		repo := reference.TrimNamed(ref.DockerReference())
		list, _, err := listReferrers(ctx, sys, repo, subject)
		if err != nil {
			return nil, err
		}
		return completeDescriptors(ctx, sys, repo, list.Manifests)
	case "oci":
		found, err := layoutReferrersOf(ctx, ref, src)
		return found[subject], err
	}
	return nil, nil
}

// layoutReferrersOf returns, by subject, the image manifests listed in
// the layout's index.json that have one, with the descriptor a referrers
// list would give them (artifact type and annotations from the manifest).
func layoutReferrersOf(ctx context.Context, ref types.ImageReference, src types.ImageSource) (map[digest.Digest][]specs.Descriptor, error) {
	dir, _ := layoutPathAndTag(ref)
	idx, err := readIndexFile(filepath.Join(dir, "index.json"), true)
	if err != nil {
		return nil, err
	}
	out := map[digest.Digest][]specs.Descriptor{}
	for _, d := range idx.Manifests {
		if d.MediaType != specs.MediaTypeImageManifest || d.Size > MaxDocumentSize {
			continue
		}
		dd := d.Digest
		raw, _, err := src.GetManifest(ctx, &dd)
		if err != nil {
			return nil, fmt.Errorf("reading manifest %s listed in %s/index.json: %w", dd, dir, err)
		}
		var m specs.Manifest
		if json.Unmarshal(raw, &m) != nil || m.Subject == nil {
			continue
		}
		out[m.Subject.Digest] = append(out[m.Subject.Digest], specs.Descriptor{
			MediaType: specs.MediaTypeImageManifest, ArtifactType: artifactTypeOf(m), Digest: dd, Size: int64(len(raw)), Annotations: m.Annotations,
		})
	}
	return out, nil
}
