package index

import (
	"context"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/types"
)

// signByDigest signs what PushByDigest wrote untagged to dest's
// repository, when the staging has a signer: every image manifest and
// the index, each signature stored as a sigstore attachment of its
// digest. Nothing is tagged: the copy goes to REG/REPO@d, whose
// manifests are already there, byte for byte.
func (p *Staged) signByDigest(ctx context.Context, dest types.ImageReference, d digest.Digest) error {
	if p.o.Signer == nil {
		return nil
	}
	named := dest.DockerReference()
	if named == nil {
		return fmt.Errorf("signing %s: only registries hold signatures", transportName(dest))
	}
	ref, err := byDigest(named, d)
	if err != nil {
		return err
	}
	written, err := p.pushSigned(ctx, ref)
	if err != nil {
		return err
	}
	if written != d {
		return fmt.Errorf("signing %s wrote %s instead", transportName(ref), written)
	}
	return nil
}
