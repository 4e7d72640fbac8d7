package index

import (
	"context"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/types"
)

// PushByDigest uploads the staged content to dest's repository untagged:
// every blob, then each image manifest by digest, then, for an index,
// the index by digest too, each read back by digest. No tag is written
// or read. It returns the
// digest of the index (or of the single image), which names the result
// as REG/REPO@DIGEST.
func (p *Staged) PushByDigest(ctx context.Context, dest types.ImageReference) (digest.Digest, error) {
	if err := p.PushContent(ctx, dest); err != nil {
		return "", err
	}
	if len(p.manifests) == 1 && p.manifests[0] == p.digest {
		return p.digest, p.signByDigest(ctx, dest, p.digest) // a single image, written by PushContent
	}
	err := p.retry(ctx, dest, func() error {
		t, err := openTransfer(ctx, p.sys, p.ref, nil)
		if err != nil {
			return err
		}
		defer t.close()
		target, err := dest.NewImageDestination(ctx, p.sys)
		if err != nil {
			return err
		}
		defer target.Close()
		d := digest.FromBytes(t.top)
		if err := target.PutManifest(ctx, t.top, &d); err != nil {
			return fmt.Errorf("writing index %s: %w", d, err)
		}
		progress(p.o.ReportWriter, "Writing index %s (untagged)\n", d)
		if err := target.Commit(ctx, image.UnparsedInstance(t.source, nil)); err != nil {
			return err
		}
		return verifyChildren(ctx, p.sys, dest, []digest.Digest{d})
	})
	if err == nil {
		err = p.signByDigest(ctx, dest, p.digest)
	}
	return p.digest, err
}
