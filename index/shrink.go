package index

import (
	"context"
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/types"
)

// ShrinkError refuses a push that would replace a published tag with an
// index lacking some of the platforms it lists.
type ShrinkError struct {
	// Tag is the published tag, as the user wrote it.
	Tag string
	// Dropped are the platforms the tag lists and the new index lacks.
	Dropped []string
}

// Error names the tag, the dropped platforms and the way out.
func (e *ShrinkError) Error() string {
	return fmt.Sprintf("refusing to push %s: it lists %s, which the new index lacks, and pushing would drop them from the published tag; "+
		"build or merge the missing platforms too, or pass --allow-shrink to publish the smaller index anyway", e.Tag, strings.Join(e.Dropped, ", "))
}

// CheckShrink reads dest's published tag and fails with a *ShrinkError
// when it lists a platform that next lacks. A missing tag, a tag serving
// no parsable manifest (nothing a push could drop), or a destination that
// is not a registry is fine; a tag that cannot be read (auth, network) is
// an error. Platforms are compared normalised (linux/arm64/v8 is
// linux/arm64); attestation entries never count. Call it before pushing
// anything to dest.
func CheckShrink(ctx context.Context, sys *types.SystemContext, dest types.ImageReference, next []specs.Platform) error {
	if dest.Transport().Name() != "docker" {
		return nil
	}
	name := strings.TrimPrefix(transportName(dest), "docker://")
	published, err := publishedPlatforms(ctx, sys, dest)
	if err != nil {
		return fmt.Errorf("reading the published tag %s to check no platform is dropped: %w", name, Explain(err, name))
	}
	if dropped := droppedPlatforms(published, next); len(dropped) > 0 {
		return &ShrinkError{Tag: name, Dropped: dropped}
	}
	return nil
}

// publishedPlatforms returns the usable platforms dest's tag lists: an
// index's entries, or a single image's config; none for a missing tag or
// one serving no parsable manifest.
func publishedPlatforms(ctx context.Context, sys *types.SystemContext, dest types.ImageReference) ([]specs.Platform, error) {
	src, err := dest.NewImageSource(ctx, sys)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	defer src.Close()
	raw, mime, err := src.GetManifest(ctx, nil)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	if manifest.MIMETypeIsMultiImage(mime) {
		ps, err := listPlatforms(raw, mime)
		if err != nil {
			return nil, nil // not an index after all: nothing to drop
		}
		return ps, nil
	}
	if _, err := manifest.FromBlob(raw, mime); err != nil {
		return nil, nil // not a manifest: nothing to drop
	}
	p, err := configPlatform(ctx, sys, src, nil)
	if err != nil || !usable(p) {
		return nil, err
	}
	return []specs.Platform{p}, nil
}

// droppedPlatforms returns, formatted and in published order, the
// platforms of published that next lacks.
func droppedPlatforms(published, next []specs.Platform) []string {
	have := make([]string, len(next))
	for i, p := range next {
		have[i] = emulation.FormatPlatform(emulation.NormalizePlatform(p))
	}
	var dropped []string
	for _, p := range published {
		s := emulation.FormatPlatform(emulation.NormalizePlatform(p))
		if !slices.Contains(have, s) && !slices.Contains(dropped, s) {
			dropped = append(dropped, s)
		}
	}
	return dropped
}

// platforms returns the usable platforms of the stored index's entries.
func (s *stored) platforms() []specs.Platform {
	var out []specs.Platform
	for _, m := range s.list.OCIv1().Manifests {
		if m.Platform != nil && usable(*m.Platform) {
			out = append(out, *m.Platform)
		}
	}
	return out
}
