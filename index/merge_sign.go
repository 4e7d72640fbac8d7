package index

import (
	"context"
	"fmt"
	"io"

	digest "github.com/opencontainers/go-digest"
	"github.com/polyarch/polyarch/emulation"
	cp "go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/signature/signer"
	"go.podman.io/image/v5/types"
)

// signMerge runs after a merge signing with s has written the index d
// under dest's tag: it carries the signatures of each child read from
// another registry repository (a build --push-by-digest signed them
// there) into dest's repository, then signs every child and the index
// there, as index push does. containers/image does both: a copy by
// digest whose manifests and blobs are already in place writes only the
// signatures.
func signMerge(ctx context.Context, sys *types.SystemContext, dest types.ImageReference, children []mergeChild, d digest.Digest, s *signer.Signer, report io.Writer) error {
	if s == nil {
		return nil
	}
	policy, err := policyContext(sys)
	if err != nil {
		return err
	}
	defer func() { _ = policy.Destroy() }()
	repo := reference.TrimNamed(dest.DockerReference())
	for _, c := range children {
		from := c.source.Reference()
		if from.Transport().Name() != "docker" || from.DockerReference() == nil || reference.TrimNamed(from.DockerReference()).String() == repo.String() {
			continue
		}
		src, err := byDigest(reference.TrimNamed(from.DockerReference()), c.digest)
		if err != nil {
			return err
		}
		dst, err := byDigest(repo, c.digest)
		if err != nil {
			return err
		}
		if _, err := cp.Image(ctx, policy, dst, src, &cp.Options{PreserveDigests: true, SourceCtx: sys, DestinationCtx: sys, ReportWriter: report}); err != nil {
			return fmt.Errorf("carrying the signatures of %s (%s) from %s: %w", c.digest, emulation.FormatPlatform(c.platform), from.DockerReference().Name(), err)
		}
	}
	src, err := byDigest(repo, d)
	if err != nil {
		return err
	}
	if _, err := cp.Image(ctx, policy, dest, src, &cp.Options{ImageListSelection: cp.CopyAllImages, PreserveDigests: true,
		SourceCtx: sys, DestinationCtx: sys, ReportWriter: report, Signers: signers(s)}); err != nil {
		return fmt.Errorf("signing the merged index %s: %w", d, err)
	}
	return nil
}
