package index

import (
	"context"
	"fmt"

	"github.com/containerd/platforms"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/types"
)

// Platforms returns the platforms an image offers: every entry of an index
// that carries a usable platform (entries without one, and unknown/unknown
// attestation entries, are skipped), or the os/architecture/variant of a
// single image's config.
func Platforms(ctx context.Context, sys *types.SystemContext, ref types.ImageReference) ([]specs.Platform, error) {
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return SourcePlatforms(ctx, sys, src)
}

// SourcePlatforms is Platforms reading from src, an image source the
// caller opened and closes (one it shares between several reads).
func SourcePlatforms(ctx context.Context, sys *types.SystemContext, src types.ImageSource) ([]specs.Platform, error) {
	ref := src.Reference()
	raw, mime, err := src.GetManifest(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading manifest of %s: %w", transportName(ref), err)
	}
	if manifest.MIMETypeIsMultiImage(mime) {
		return listPlatforms(raw, mime)
	}
	img, err := image.FromUnparsedImage(ctx, sys, image.UnparsedInstance(src, nil))
	if err != nil {
		return nil, fmt.Errorf("reading image %s: %w", transportName(ref), err)
	}
	cfg, err := img.OCIConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", transportName(ref), err)
	}
	p := specs.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
	if !usable(p) {
		return nil, nil
	}
	return []specs.Platform{emulation.NormalizePlatform(p)}, nil
}

// listPlatforms returns the usable platforms of an index or manifest list.
func listPlatforms(raw []byte, mime string) ([]specs.Platform, error) {
	list, err := manifest.ListFromBlob(raw, mime)
	if err != nil {
		return nil, fmt.Errorf("parsing image index: %w", err)
	}
	var out []specs.Platform
	for _, d := range list.Instances() {
		inst, err := list.Instance(d)
		if err != nil {
			return nil, err
		}
		p := inst.ReadOnly.Platform
		if p == nil || !usable(*p) {
			continue
		}
		out = append(out, emulation.NormalizePlatform(*p))
	}
	return out, nil
}

// usable reports whether p names a real runnable platform: attestation
// manifests use unknown/unknown and never satisfy a platform.
func usable(p specs.Platform) bool {
	return p.OS != "" && p.Architecture != "" && p.OS != "unknown" && p.Architecture != "unknown"
}

// Offers reports whether an image offering have has an image for want,
// after normalisation (linux/arm64 equals linux/arm64/v8) but without
// falling back to other architectures or variants.
func Offers(have []specs.Platform, want specs.Platform) bool {
	m := platforms.OnlyStrict(want)
	for _, h := range have {
		if m.Match(h) {
			return true
		}
	}
	return false
}

// FormatPlatforms joins platforms as "linux/amd64, linux/arm64".
func FormatPlatforms(ps []specs.Platform) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ", "
		}
		s += emulation.FormatPlatform(p)
	}
	if s == "" {
		return "no usable platform (only attestations or entries without one)"
	}
	return s
}

// transportName formats a reference with its transport, e.g. oci:/dir:tag.
func transportName(ref types.ImageReference) string {
	return ref.Transport().Name() + ":" + ref.StringWithinTransport()
}
