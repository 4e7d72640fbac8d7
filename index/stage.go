package index

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/common/pkg/retry"
	"go.podman.io/image/v5/directory"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/signature/signer"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// StageOptions configures Stage.
type StageOptions struct {
	// Compression of the layers written to the staging copy; default gzip.
	Compression Compression
	// ReportWriter receives progress lines; nil means silence.
	ReportWriter io.Writer
	// Retry is how many times a failed push is retried, with backoff;
	// 0 means none (callers usually pass DefaultRetry).
	Retry int
	// Format of the staged manifests: FormatOCI (default, also "") or
	// FormatV2S2, for images stored in Docker format (see stageFormat).
	Format string
	// Signer, if set, signs every image manifest and the index PushTag
	// writes (see OpenSigner); the caller closes it.
	Signer *signer.Signer
	// Shared, if set, is the pool through which the stages of one build
	// compress a layer that several images share once.
	Shared *SharedLayers
}

// Staged is an index or image read out of local storage once, with its
// layers compressed, into a directory next to the store. Every output is
// written from it byte for byte: OCI layouts and archives (Export) and
// registries, in two phases (PushContent for every registry, then
// PushTag), so all of them hold the very same digests.
type Staged struct {
	tmp       string
	ref       types.ImageReference
	sys       *types.SystemContext
	o         StageOptions
	digest    digest.Digest
	manifests []digest.Digest
	referrers []Referrer // pushed after the children (see Attach)
	// pushed records the child manifests PushContent already wrote,
	// blobs first, to a destination (pushKey): a later PushContent to it
	// skips them, only reading them back.
	pushed map[string]bool
}

// Stage writes the stored index or image id, compressed as
// o.Compression says, to a staging directory. Call Close when done.
func Stage(ctx context.Context, store storage.Store, sys *types.SystemContext, id string, o StageOptions) (*Staged, error) {
	p, err := stage(ctx, store, sys, o, func(ref types.ImageReference, sys *types.SystemContext) error {
		return copyFromStorageAs(ctx, store, sys, id, ref, nil, o.Format)
	})
	if err != nil {
		return nil, fmt.Errorf("staging %s: %w", id, err)
	}
	return p, nil
}

// stage creates the staging directory and lets write fill it through a
// dir: reference and a system context that compresses as o says.
func stage(ctx context.Context, store storage.Store, sys *types.SystemContext, o StageOptions, write func(types.ImageReference, *types.SystemContext) error) (*Staged, error) {
	compressing, err := o.Compression.apply(sys, true)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(store.GraphRoot(), "polyarch-stage-")
	if err != nil {
		return nil, fmt.Errorf("creating staging directory: %w", err)
	}
	p := &Staged{tmp: tmp, sys: sys, o: o, pushed: map[string]bool{}}
	if p.ref, err = directory.NewReference(tmp); err == nil {
		err = write(sharedStaging(p.ref, tmp, o), compressing)
	}
	if err == nil {
		err = p.readDigests(ctx)
	}
	if err == nil && o.Shared != nil {
		err = o.Shared.record(tmp)
	}
	if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// readDigests records the digests of the staged manifests.
func (p *Staged) readDigests(ctx context.Context) error {
	t, err := openTransfer(ctx, p.sys, p.ref, nil)
	if err != nil {
		return fmt.Errorf("reading the staged manifests: %w", err)
	}
	defer t.close()
	p.digest = digest.FromBytes(t.top)
	for _, c := range t.children {
		p.manifests = append(p.manifests, c.digest)
	}
	return nil
}

// Digest returns the digest of the staged index (or image manifest):
// what every output holds under its tag.
func (p *Staged) Digest() digest.Digest { return p.digest }

// Manifests returns the digests of the staged image manifests, in index
// order; for a single image, its own.
func (p *Staged) Manifests() []digest.Digest { return p.manifests }

// Export stages an OCI output from the staged bytes, byte for byte, next
// to o.Dest; Commit the result to move it into place.
func (p *Staged) Export(ctx context.Context, o ExportOptions) (*StagedExport, error) {
	st, err := PrepareExport(o)
	if err != nil {
		return nil, err
	}
	if err := p.ExportTo(ctx, st, o.ReportWriter); err != nil {
		st.Discard()
		return nil, err
	}
	return st, nil
}

// PushContent uploads every blob, then every child manifest by digest, to
// dest, then reads each manifest back by digest (a NotStoredError if the
// registry does not serve it), then pushes the attached referrers (see
// Attach); dest's tag is not touched.
func (p *Staged) PushContent(ctx context.Context, dest types.ImageReference) error {
	return p.retry(ctx, dest, func() error {
		t, err := openTransfer(ctx, p.sys, p.ref, nil)
		if err != nil {
			return err
		}
		defer t.close()
		t.children = slices.DeleteFunc(t.children, func(c child) bool { return p.pushed[pushKey(dest, c.digest)] })
		if len(t.children) > 0 {
			if err := t.sendContent(ctx, p.sys, dest, p.o.ReportWriter); err != nil {
				return err
			}
		}
		if err := verifyChildren(ctx, p.sys, dest, p.manifests); err != nil {
			return err
		}
		for _, d := range p.manifests {
			p.pushed[pushKey(dest, d)] = true
		}
		return PushReferrers(ctx, p.sys, dest, p.referrers, p.o.ReportWriter)
	})
}

// pushKey names a child manifest d pushed to dest's repository.
func pushKey(dest types.ImageReference, d digest.Digest) string {
	if named := dest.DockerReference(); named != nil {
		return reference.TrimNamed(named).String() + "@" + d.String()
	}
	return transportName(dest) + "@" + d.String()
}

// PushTag writes the index (or image manifest) under dest's tag, reads
// it back by that tag (a NotStoredError unless the registry serves what
// was pushed) and returns its digest. Call it after PushContent succeeded for dest.
func (p *Staged) PushTag(ctx context.Context, dest types.ImageReference) (digest.Digest, error) {
	var d digest.Digest
	err := p.retry(ctx, dest, func() error {
		t, err := openTransfer(ctx, p.sys, p.ref, nil)
		if err != nil {
			return err
		}
		defer t.close()
		if p.o.Signer != nil {
			d, err = p.pushSigned(ctx, dest)
		} else {
			d, err = t.sendTop(ctx, p.sys, dest, p.o.ReportWriter)
		}
		if err != nil {
			return err
		}
		return verifyPushed(ctx, p.sys, dest, d)
	})
	return d, err
}

// SetSigner makes PushTag sign what it writes with s (nil: no signing),
// for a part staged during the build that becomes the result.
func (p *Staged) SetSigner(s *signer.Signer) { p.o.Signer = s }

// Close removes the staging directory.
func (p *Staged) Close() {
	_ = os.RemoveAll(p.tmp)
}

// retry runs f with the configured retries and explains its failure.
func (p *Staged) retry(ctx context.Context, dest types.ImageReference, f func() error) error {
	if err := retry.IfNecessary(ctx, f, &retry.Options{MaxRetry: p.o.Retry}); err != nil {
		return fmt.Errorf("pushing to %s: %w", transportName(dest), Explain(err, transportName(dest)))
	}
	return nil
}
