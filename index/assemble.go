package index

import (
	"context"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/common/libimage/manifests"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// Instance is one platform image, stored in local storage, of an index.
type Instance struct {
	// ImageID is the image's ID in local storage.
	ImageID string
	// Platform is the platform built, for messages; the index entry
	// records the image config's own (see setPlatform).
	Platform specs.Platform
}

// Assembled is an index stored, untagged, in local storage.
type Assembled struct {
	// ID is the index's image ID in local storage.
	ID string
	// Digest is the digest of the serialised OCI index.
	Digest digest.Digest
	// Manifests are the child manifest digests, in instance order.
	Manifests []digest.Digest
}

// Assemble stores a new OCI image index holding instances, in the order
// given, in local storage. The index gets no name: call Tag to publish it
// once everything else has succeeded.
func Assemble(ctx context.Context, store storage.Store, sys *types.SystemContext, instances []Instance) (*Assembled, error) {
	return AssembleAs(ctx, store, sys, instances, FormatOCI)
}

// AssembleAs is Assemble storing an index of the given format: FormatOCI
// (an OCI image index) or FormatV2S2 (a Docker manifest list, for Docker
// schema 2 images).
func AssembleAs(ctx context.Context, store storage.Store, sys *types.SystemContext, instances []Instance, format string) (*Assembled, error) {
	mime, err := listType(format)
	if err != nil {
		return nil, err
	}
	list := manifests.Create()
	out := &Assembled{}
	for _, inst := range instances {
		ref, err := is.Transport.NewStoreReference(store, nil, inst.ImageID)
		if err != nil {
			return nil, fmt.Errorf("referencing image %s of %s: %w", inst.ImageID, emulation.FormatPlatform(inst.Platform), err)
		}
		d, err := list.Add(ctx, sys, ref, false)
		if err != nil {
			return nil, fmt.Errorf("adding %s image %s to the index: %w", emulation.FormatPlatform(inst.Platform), inst.ImageID, err)
		}
		if err := setPlatform(ctx, sys, list, d, ref, nil); err != nil {
			return nil, fmt.Errorf("recording the platform of %s image %s: %w", emulation.FormatPlatform(inst.Platform), inst.ImageID, err)
		}
		out.Manifests = append(out.Manifests, d)
	}
	id, err := list.SaveToImage(store, "", nil, mime)
	if err != nil {
		return nil, fmt.Errorf("saving index to local storage: %w", err)
	}
	raw, err := list.Serialize(mime)
	if err != nil {
		return nil, fmt.Errorf("serialising index: %w", err)
	}
	out.ID, out.Digest = id, digest.FromBytes(raw)
	return out, nil
}

// setPlatform makes entry d of list say exactly what the config of its
// image says: os, architecture, variant, os.version and os.features, as
// `podman manifest add` records them. The image is ref, or its entry
// instance if ref is an index. Nothing is normalised: an arm64 config
// that says variant v8 gives an entry that says v8.
func setPlatform(ctx context.Context, sys *types.SystemContext, list manifests.List, d digest.Digest, ref types.ImageReference, instance *digest.Digest) error {
	p, err := refPlatform(ctx, sys, ref, instance)
	if err != nil {
		return err
	}
	for _, set := range []struct {
		apply func(digest.Digest, string) error
		value string
	}{
		{list.SetOS, p.OS}, {list.SetArchitecture, p.Architecture}, {list.SetVariant, p.Variant}, {list.SetOSVersion, p.OSVersion},
	} {
		if err := set.apply(d, set.value); err != nil {
			return err
		}
	}
	return list.SetOSFeatures(d, p.OSFeatures)
}

// refPlatform reads the platform that the config of ref (or of its entry
// instance) declares.
func refPlatform(ctx context.Context, sys *types.SystemContext, ref types.ImageReference, instance *digest.Digest) (specs.Platform, error) {
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return specs.Platform{}, err
	}
	defer src.Close()
	return configPlatform(ctx, sys, src, instance)
}

// Tag gives the stored index id the names, taking each name away from any
// image that held it before. Until Tag runs, a name keeps its old image.
func Tag(store storage.Store, id string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	if err := store.AddNames(id, names); err != nil {
		return fmt.Errorf("tagging index %s as %v: %w", id, names, err)
	}
	return nil
}

// Discard removes an index that was assembled but will not be published.
// The platform images it refers to stay in storage.
func Discard(store storage.Store, id string) error {
	if _, err := store.DeleteImage(id, true); err != nil {
		return fmt.Errorf("removing unpublished index %s: %w", id, err)
	}
	return nil
}

// StoredDigest returns the manifest digest of a stored image or index.
func StoredDigest(store storage.Store, id string) (digest.Digest, error) {
	img, err := store.Image(id)
	if err != nil {
		return "", fmt.Errorf("reading image %s in local storage: %w", id, err)
	}
	if img.Digest == "" {
		return "", fmt.Errorf("image %s in local storage records no manifest digest", id)
	}
	return img.Digest, nil
}
