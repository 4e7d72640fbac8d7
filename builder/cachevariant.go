package builder

import (
	"context"
	"fmt"
	"io"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// Buildah's layer cache accepts a cached image whose OS and architecture
// are the build's without comparing the variant: for two variants of one
// architecture with the same base layers (FROM scratch, or a base whose
// arm/v6 and arm/v7 entries share layers), a linux/arm/v7 build reuses
// the linux/arm/v6 image, config included, and the index ends up with
// one entry for both. polyarch checks the platform of the image each
// build committed and builds that platform again without the cache when
// it is another variant's.

// wrongVariant returns the platform of the stored image id when it is a
// variant other than p's; nil when it is p (or states no variant).
func wrongVariant(ctx context.Context, store storage.Store, sys *types.SystemContext, id string, p specs.Platform) (*specs.Platform, error) {
	ref, err := is.Transport.NewStoreReference(store, nil, id)
	if err != nil {
		return nil, err
	}
	img, err := ref.NewImage(ctx, sys)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	cfg, err := img.OCIConfig(ctx)
	if err != nil {
		return nil, err
	}
	got := emulation.NormalizePlatform(specs.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant})
	want := emulation.NormalizePlatform(p)
	if got.OS == want.OS && got.Architecture == want.Architecture && (got.Variant == "" || want.Variant == "" || got.Variant == want.Variant) {
		return nil, nil
	}
	return &got, nil
}

// checkCachedPlatform returns id when the image it names is of platform
// p; otherwise it warns on w and returns the ID that rebuild (the same
// build, without the layer cache) commits.
func checkCachedPlatform(ctx context.Context, store storage.Store, sys *types.SystemContext, id string, p specs.Platform, w io.Writer, rebuild func() (string, error)) (string, error) {
	got, err := wrongVariant(ctx, store, sys, id, p)
	if err != nil {
		return "", fmt.Errorf("reading the platform of image %s: %w", id, err)
	}
	if got == nil {
		return id, nil
	}
	if w != nil {
		fmt.Fprintf(w, "WARNING: the layer cache gave image %.12s of %s for %s; building %s again without the cache\n",
			id, emulation.FormatPlatform(*got), emulation.FormatPlatform(p), emulation.FormatPlatform(p))
	}
	id, err = rebuild()
	if err != nil {
		return "", err
	}
	if got, err := wrongVariant(ctx, store, sys, id, p); err != nil || got != nil {
		return "", fmt.Errorf("image %s built for %s says %v in its config (%v)", id, emulation.FormatPlatform(p), got, err)
	}
	return id, nil
}
