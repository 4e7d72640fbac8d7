package index

import (
	"context"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/pkg/blobinfocache"
	"go.podman.io/image/v5/types"
)

// Attach adds referrers (attestations about the staged index or its
// children) to the staged result: PushContent pushes them after the
// children, before any tag, and Export writes them into layouts when
// ExportOptions.Referrers is set.
func (p *Staged) Attach(refs ...Referrer) {
	p.referrers = append(p.referrers, refs...)
}

// writeLayoutReferrers writes the attached referrers into the staged oci:
// layout dest: their blobs, their manifests and an untagged index.json
// entry each. Archives get none.
func (p *Staged) writeLayoutReferrers(ctx context.Context, dest types.ImageReference) error {
	if len(p.referrers) == 0 || dest.Transport().Name() != "oci" {
		return nil
	}
	dir, _ := layoutPathAndTag(dest)
	ref, err := layout.NewReference(dir, "")
	if err != nil {
		return err
	}
	target, err := ref.NewImageDestination(ctx, p.sys)
	if err != nil {
		return err
	}
	defer target.Close()
	cache := blobinfocache.DefaultCache(p.sys)
	for _, r := range p.referrers {
		desc, err := putArtifact(ctx, target, cache, r, p.o.ReportWriter)
		if err != nil {
			return err
		}
		_, raw, err := r.Descriptor()
		if err != nil {
			return err
		}
		if err := target.PutManifest(ctx, raw, nil); err != nil {
			return fmt.Errorf("listing referrer %s in %s: %w", desc.Digest, dir, err)
		}
	}
	return target.Commit(ctx, nil)
}

// ReadManifest returns the staged manifest d (the index's, or a child's)
// and its media type.
func (p *Staged) ReadManifest(ctx context.Context, d digest.Digest) ([]byte, string, error) {
	src, err := p.ref.NewImageSource(ctx, p.sys)
	if err != nil {
		return nil, "", err
	}
	defer src.Close()
	var instance *digest.Digest
	if d != p.digest {
		instance = &d
	}
	return src.GetManifest(ctx, instance)
}
