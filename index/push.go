package index

import (
	"context"
	"fmt"
	"io"
	"os"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/common/libimage/manifests"
	cp "go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/signature/signer"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// listType returns the media type of an index pushed in format, one of
// FormatOCI ("" too) and FormatV2S2.
func listType(format string) (string, error) {
	switch format {
	case "", FormatOCI:
		return specs.MediaTypeImageIndex, nil
	case FormatV2S2:
		return manifest.DockerV2ListMediaType, nil
	}
	return "", fmt.Errorf("invalid manifest format %q: use %s or %s", format, FormatOCI, FormatV2S2)
}

// PushOptions configures Push. The zero value pushes an OCI index with
// DefaultRetry retries and no progress output.
type PushOptions struct {
	// Format of the index and its manifests: FormatOCI or FormatV2S2, a
	// Docker manifest list of schema 2 manifests; default (""): the
	// index's own (see listFormat).
	Format string
	// Retry is how many times a failed step is retried, with exponential
	// backoff; default (nil) DefaultRetry.
	Retry *uint
	// DigestFile, if set, receives the pushed index's digest.
	DigestFile string
	// Compression of layers written anew (those from local storage, or all
	// of them when Format is set); default gzip, blobs already in that
	// format are kept as they are.
	Compression Compression
	// ReportWriter receives copy progress; nil means silence.
	ReportWriter io.Writer
	// AllowShrink lets the index replace a published registry tag that
	// lists platforms it lacks; default: refused with a *ShrinkError
	// before anything is pushed.
	AllowShrink bool
	// Sign signs every image manifest and the index; registry
	// destinations only.
	Sign SignOptions
}

// Validate checks the format and the compression before any work; its
// errors name the flags.
func (opts PushOptions) Validate() error {
	if _, err := listType(opts.Format); err != nil {
		return err
	}
	if err := opts.Compression.checkFormat(opts.Format); err != nil {
		return err
	}
	if err := opts.Sign.Validate(); err != nil {
		return err
	}
	return opts.Compression.Validate()
}

// Push copies the stored index name and every image it lists to dest
// (docker://, oci:, oci-archive: or any other transport), converting
// manifests to opts.Format. Blobs are read from where each entry was
// added from: local storage, a registry or a layout. To a registry, the
// index is first staged in a directory next to the store, then pushed in
// dependency order, as build --push does: every blob, then each image
// manifest by digest, then the index under dest's tag last, so a failure
// leaves the tag as it was. It returns the digest of the index as written.
func Push(ctx context.Context, store storage.Store, sys *types.SystemContext, name string, dest types.ImageReference, opts PushOptions) (digest.Digest, error) {
	if err := opts.Validate(); err != nil {
		return "", err
	}
	s, err := openList(store, name)
	if err != nil {
		return "", err
	}
	if len(s.list.Instances()) == 0 {
		return "", fmt.Errorf("pushing index %s: it is empty: add images with `polyarch index add %s SOURCE`", s.label(), name)
	}
	if opts.Format == "" {
		opts.Format = listFormat(s.list) // a Docker manifest list stays one
	}
	sign, err := openPushSigner(opts.Sign, dest)
	if err != nil {
		return "", err
	}
	defer sign.close()
	if !opts.AllowShrink {
		if err := CheckShrink(ctx, sys, dest, s.platforms()); err != nil {
			return "", err
		}
	}
	var d digest.Digest
	if dest.Transport().Name() == "docker" {
		d, err = s.pushStaged(ctx, store, sys, dest, opts, sign.s)
	} else if dest.Transport().Name() == "oci" {
		d, err = writeLayout(ctx, dest, func(staged types.ImageReference) (digest.Digest, error) {
			return s.push(ctx, store, sys, staged, opts, opts.ReportWriter)
		})
	} else if dest.Transport().Name() == "oci-archive" {
		d, err = writeArchive(ctx, dest, func(staged types.ImageReference) (digest.Digest, error) {
			return s.push(ctx, store, sys, staged, opts, opts.ReportWriter)
		})
	} else {
		d, err = s.push(ctx, store, sys, dest, opts, opts.ReportWriter)
	}
	if err != nil {
		return "", fmt.Errorf("pushing index %s to %s: %w", s.label(), transportName(dest), err)
	}
	if opts.DigestFile != "" {
		if err := os.WriteFile(opts.DigestFile, []byte(d.String()), 0o644); err != nil {
			return d, fmt.Errorf("writing digest of index %s to %s: %w", s.label(), opts.DigestFile, err)
		}
	}
	return d, nil
}

// push copies the index to dest with containers/image, converting it to
// opts.Format and compressing layers as opts.Compression says (dir:
// destinations too, for staging); the index is written after its images.
func (s *stored) push(ctx context.Context, store storage.Store, sys *types.SystemContext, dest types.ImageReference, opts PushOptions, report io.Writer) (digest.Digest, error) {
	mime, err := listType(opts.Format)
	if err != nil {
		return "", err
	}
	if sys, err = opts.Compression.apply(sys, true); err != nil {
		return "", err
	}
	retries := retryCount(opts.Retry)
	_, d, err := s.list.Push(ctx, dest, manifests.PushOptions{
		Store:                  store,
		SystemContext:          sys,
		ImageListSelection:     cp.CopyAllImages,
		ReportWriter:           report,
		ManifestType:           mime,
		MaxRetries:             &retries,
		ForceCompressionFormat: opts.Compression.Format != "",
	})
	return d, err
}

// pushStaged converts the index into a staging copy in opts.Format, then
// pushes the staged bytes to dest in dependency order, as build does.
func (s *stored) pushStaged(ctx context.Context, store storage.Store, sys *types.SystemContext, dest types.ImageReference, opts PushOptions, sign *signer.Signer) (digest.Digest, error) {
	so := StageOptions{Compression: opts.Compression, ReportWriter: opts.ReportWriter, Retry: int(retryCount(opts.Retry)), Signer: sign}
	p, err := stage(ctx, store, sys, so, func(ref types.ImageReference, _ *types.SystemContext) error {
		_, err := s.push(ctx, store, sys, ref, opts, nil)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("staging for push: %w", err)
	}
	defer p.Close()
	if err := p.PushContent(ctx, dest); err != nil {
		return "", err
	}
	return p.PushTag(ctx, dest)
}
