package index

import (
	"context"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/manifest"
)

// ManifestInfo describes one manifest: its media type, digest and size
// (an OCI descriptor of it) and, for an image, its config's digest.
type ManifestInfo struct {
	MediaType string
	Digest    digest.Digest
	Size      int64
	// Config is the digest of the image's config; "" for an index.
	Config digest.Digest
}

// DescribeManifest describes the manifest raw.
func DescribeManifest(raw []byte) (ManifestInfo, error) {
	mime := manifest.GuessMIMEType(raw)
	info := ManifestInfo{MediaType: mime, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	if manifest.MIMETypeIsMultiImage(mime) {
		return info, nil
	}
	m, err := manifest.FromBlob(raw, mime)
	if err != nil {
		return ManifestInfo{}, fmt.Errorf("parsing manifest %s: %w", info.Digest, err)
	}
	info.Config = m.ConfigInfo().Digest
	return info, nil
}

// Describe returns the staged index (or image manifest) and, in index
// order, every image manifest, as every output holds them.
func (p *Staged) Describe(ctx context.Context) (ManifestInfo, []ManifestInfo, error) {
	t, err := openTransfer(ctx, p.sys, p.ref, nil)
	if err != nil {
		return ManifestInfo{}, nil, fmt.Errorf("reading the staged manifests: %w", err)
	}
	defer t.close()
	top, err := DescribeManifest(t.top)
	if err != nil {
		return ManifestInfo{}, nil, err
	}
	images := make([]ManifestInfo, len(t.children))
	for i, c := range t.children {
		if images[i], err = DescribeManifest(c.raw); err != nil {
			return ManifestInfo{}, nil, err
		}
	}
	return top, images, nil
}
