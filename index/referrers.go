package index

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/blobinfocache"
	"go.podman.io/image/v5/types"
)

// Media and artifact types of in-toto attestations stored as OCI 1.1
// artifacts.
const (
	// MediaTypeInToto is the artifact type and layer media type of an
	// in-toto statement.
	MediaTypeInToto = "application/vnd.in-toto+json"
	// AnnotationPredicateType names the statement's predicate type on the
	// artifact manifest and its layer.
	AnnotationPredicateType = "in-toto.io/predicate-type"
)

// Referrer is an OCI 1.1 artifact about another manifest (its subject):
// an image manifest of ArtifactType whose config is the empty descriptor
// and whose one layer is Payload, as the OCI distribution spec's
// referrers API lists them.
type Referrer struct {
	// Subject is the descriptor of the manifest the artifact is about.
	Subject specs.Descriptor
	// ArtifactType is the artifact manifest's artifactType, also the
	// payload layer's media type.
	ArtifactType string
	// Annotations go on the artifact manifest and on its layer.
	Annotations map[string]string
	// Payload is the layer's content.
	Payload []byte
}

// Manifest serialises the artifact manifest; its bytes are a function of
// the referrer alone.
func (r Referrer) Manifest() ([]byte, error) {
	m := specs.Manifest{
		MediaType:    specs.MediaTypeImageManifest,
		ArtifactType: r.ArtifactType,
		Config:       specs.DescriptorEmptyJSON,
		Layers: []specs.Descriptor{{
			MediaType: r.ArtifactType, Digest: digest.FromBytes(r.Payload), Size: int64(len(r.Payload)), Annotations: r.Annotations,
		}},
		Subject:     &r.Subject,
		Annotations: r.Annotations,
	}
	m.SchemaVersion = 2
	return json.Marshal(m)
}

// Descriptor returns the artifact manifest's descriptor as a referrers
// list carries it: artifact type and annotations included.
func (r Referrer) Descriptor() (specs.Descriptor, []byte, error) {
	raw, err := r.Manifest()
	if err != nil {
		return specs.Descriptor{}, nil, err
	}
	return specs.Descriptor{
		MediaType: specs.MediaTypeImageManifest, ArtifactType: r.ArtifactType,
		Digest: digest.FromBytes(raw), Size: int64(len(raw)), Annotations: r.Annotations,
	}, raw, nil
}

// artifactBlob is one blob of an artifact: the empty config or a layer.
type artifactBlob struct {
	info types.BlobInfo
	data []byte
}

// blobs returns the artifact's config and payload blobs.
func (r Referrer) blobs() []artifactBlob {
	empty := specs.DescriptorEmptyJSON
	return []artifactBlob{
		{info: types.BlobInfo{Digest: empty.Digest, Size: empty.Size, MediaType: empty.MediaType}, data: empty.Data},
		{info: types.BlobInfo{Digest: digest.FromBytes(r.Payload), Size: int64(len(r.Payload)), MediaType: r.ArtifactType}, data: r.Payload},
	}
}

// putArtifact writes the referrer's blobs, then its manifest by digest,
// to target, and returns the manifest's descriptor.
func putArtifact(ctx context.Context, target types.ImageDestination, cache types.BlobInfoCache, r Referrer, report io.Writer) (specs.Descriptor, error) {
	desc, raw, err := r.Descriptor()
	if err != nil {
		return desc, err
	}
	for _, b := range r.blobs() {
		if ok, _, err := target.TryReusingBlob(ctx, b.info, cache, false); err == nil && ok {
			continue
		}
		if _, err := target.PutBlob(ctx, bytes.NewReader(b.data), b.info, cache, false); err != nil {
			return desc, fmt.Errorf("pushing blob %s of the %s referrer of %s: %w", b.info.Digest, r.ArtifactType, r.Subject.Digest, err)
		}
	}
	d := desc.Digest
	if err := target.PutManifest(ctx, raw, &d); err != nil {
		return desc, fmt.Errorf("writing the %s referrer %s of %s: %w", r.ArtifactType, d, r.Subject.Digest, err)
	}
	progress(report, "Writing referrer %s (%s) of %s\n", d, r.ArtifactType, r.Subject.Digest)
	return desc, nil
}

// PushReferrers writes each referrer to dest's repository: its blobs and
// manifest by digest, then, on a registry without the referrers API, the
// subject's referrers tag (sha256-<hex>, the OCI distribution spec's tag
// schema) listing it along with those already there. dest's own tag is
// not touched.
func PushReferrers(ctx context.Context, sys *types.SystemContext, dest types.ImageReference, refs []Referrer, report io.Writer) error {
	if len(refs) == 0 {
		return nil
	}
	named := dest.DockerReference()
	if dest.Transport().Name() != "docker" || named == nil {
		return fmt.Errorf("pushing referrers to %s: only registries (docker://) hold referrers this way", transportName(dest))
	}
	target, err := dest.NewImageDestination(ctx, sys)
	if err != nil {
		return err
	}
	defer target.Close()
	cache := blobinfocache.DefaultCache(sys)
	for _, r := range refs {
		desc, err := putArtifact(ctx, target, cache, r, report)
		if err != nil {
			return err
		}
		if err := verifyChildren(ctx, sys, dest, []digest.Digest{desc.Digest}); err != nil {
			return err
		}
		if err := register(ctx, sys, reference.TrimNamed(named), r.Subject.Digest, desc, report); err != nil {
			return fmt.Errorf("listing referrer %s of %s in %s: %w", desc.Digest, r.Subject.Digest, named.Name(), err)
		}
	}
	return nil
}

// register makes desc findable as a referrer of subject in repo: nothing
// more where the registry has the referrers API (it indexes the subject
// field itself), else by adding it to the subject's referrers tag, read
// back by tag as pushes are.
func register(ctx context.Context, sys *types.SystemContext, repo reference.Named, subject digest.Digest, desc specs.Descriptor, report io.Writer) error {
	list, viaAPI, err := listReferrers(ctx, sys, repo, subject)
	if err != nil || viaAPI {
		return err
	}
	if list.Manifests, err = keepReferrers(ctx, sys, repo, subject, list.Manifests); err != nil {
		return err
	}
	if slices.ContainsFunc(list.Manifests, func(m specs.Descriptor) bool { return m.Digest == desc.Digest }) {
		return nil
	}
	list.Manifests = append(list.Manifests, desc)
	raw, err := json.Marshal(list)
	if err != nil {
		return err
	}
	tagRef, err := referrersTagRef(repo, subject)
	if err != nil {
		return err
	}
	target, err := tagRef.NewImageDestination(ctx, sys)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := target.PutManifest(ctx, raw, nil); err != nil {
		return err
	}
	progress(report, "Writing referrers tag %s\n", transportName(tagRef))
	if err := target.Commit(ctx, nil); err != nil {
		return err
	}
	return verifyPushed(ctx, sys, tagRef, digest.FromBytes(raw))
}

// ReferrersTag returns the tag under which registries without the
// referrers API list the referrers of subject: sha256-<hex>.
func ReferrersTag(subject digest.Digest) string {
	return subject.Algorithm().String() + "-" + subject.Encoded()
}

// referrersTagRef returns repo:sha256-<hex> for subject.
func referrersTagRef(repo reference.Named, subject digest.Digest) (types.ImageReference, error) {
	tagged, err := reference.WithTag(repo, ReferrersTag(subject))
	if err != nil {
		return nil, err
	}
	return docker.NewReference(tagged)
}

// emptyReferrers is a referrers list with nothing in it.
func emptyReferrers() specs.Index {
	idx := specs.Index{MediaType: specs.MediaTypeImageIndex, Manifests: []specs.Descriptor{}}
	idx.SchemaVersion = 2
	return idx
}

// readReferrersTag reads the referrers tag of subject in repo; a missing
// tag, or one holding something else than an OCI index (which the tag
// schema reserves for referrers lists), is an empty list.
func readReferrersTag(ctx context.Context, sys *types.SystemContext, repo reference.Named, subject digest.Digest) (specs.Index, error) {
	list := emptyReferrers()
	ref, err := referrersTagRef(repo, subject)
	if err != nil {
		return list, err
	}
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		if isNotFound(err) {
			return list, nil
		}
		return list, err
	}
	defer src.Close()
	raw, _, err := src.GetManifest(ctx, nil)
	if err != nil {
		if isNotFound(err) {
			return list, nil
		}
		return list, err
	}
	return parseReferrersTag(raw, transportName(ref))
}

// parseReferrersTag parses what a referrers tag (named tag) holds: an
// OCI index is the list; anything else an empty list.
func parseReferrersTag(raw []byte, tag string) (specs.Index, error) {
	list := emptyReferrers()
	if err := json.Unmarshal(raw, &list); err != nil {
		return list, fmt.Errorf("parsing referrers tag %s: %w", tag, err)
	}
	if list.MediaType != specs.MediaTypeImageIndex {
		return emptyReferrers(), nil
	}
	if list.Manifests == nil {
		list.Manifests = []specs.Descriptor{}
	}
	return list, nil
}

// readReferrer reads the manifest dgst of repo by digest.
func readReferrer(ctx context.Context, sys *types.SystemContext, repo reference.Named, dgst digest.Digest) ([]byte, error) {
	named, err := reference.WithDigest(repo, dgst)
	if err != nil {
		return nil, err
	}
	ref, err := docker.NewReference(named)
	if err != nil {
		return nil, err
	}
	raw, _, err := readBack(ctx, sys, ref)
	if err != nil {
		return nil, fmt.Errorf("reading referrer %s: %w", dgst, err)
	}
	return raw, nil
}

// keepReferrers returns the entries of a referrers tag that are what the
// tag schema says: manifests of repo whose subject is subject. Others (a
// manifest since deleted, or whatever a misbehaving registry served) are
// dropped rather than written back.
func keepReferrers(ctx context.Context, sys *types.SystemContext, repo reference.Named, subject digest.Digest, descs []specs.Descriptor) ([]specs.Descriptor, error) {
	out := []specs.Descriptor{}
	for _, d := range descs {
		raw, err := readReferrer(ctx, sys, repo, d.Digest)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var m specs.Manifest
		if json.Unmarshal(raw, &m) == nil && m.Subject != nil && m.Subject.Digest == subject && digest.FromBytes(raw) == d.Digest {
			out = append(out, d)
		}
	}
	return out, nil
}
