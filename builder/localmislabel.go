package builder

import (
	"context"
	"fmt"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"go.podman.io/buildah/define"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// A base that local storage holds by name is read by buildah, which picks
// an index's instance by the instance's config: for an index whose entry
// for arm64 holds an amd64 image (a list mislabelled with podman manifest
// add --arch), it finds no arm64 image and fails with "image not known",
// even with --allow-mislabelled-base. With that flag, polyarch hands
// buildah the image the entry names by its ID instead, as it does for
// layout and registry bases.

// withLocalMislabelled adds to bases, with o.AllowMislabelledBase, a
// buildah context for every FROM of the target's stages that names an
// index in local storage whose entry for the stage's platform holds an
// image of another platform: the FROM is replaced by that image's ID.
// FROMs already in bases are left alone.
func withLocalMislabelled(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, target specs.Platform, bases map[string]*define.AdditionalBuildContext) (map[string]*define.AdditionalBuildContext, error) {
	if !o.AllowMislabelledBase || o.Pull == PullAlways {
		return bases, nil
	}
	local, err := o.Plan.stageBases(o, target, func(i int, image string) bool {
		_, done := bases[o.Plan.file.Stages[i].Base]
		return !done && o.Plan.isRegistryBase(o, i, image)
	})
	if err != nil {
		return nil, err
	}
	for _, b := range local {
		id, err := mislabelledLocalID(ctx, store, sys, b)
		if err != nil {
			return nil, fmt.Errorf("reading base image %s for %s from local storage: %w", b.Image, emulation.FormatPlatform(b.Platform), err)
		}
		if id == "" {
			continue
		}
		if bases == nil {
			bases = map[string]*define.AdditionalBuildContext{}
		}
		bases[b.Written] = &define.AdditionalBuildContext{IsImage: true, Value: id}
	}
	return bases, nil
}

// mislabelledLocalID returns the ID of the image in local storage that
// the entry for b.Platform of the index b.Image names, when that entry is
// mislabelled; "" otherwise (not in local storage, not an index, no such
// entry, or a truthful one, all of which buildah reads by name).
func mislabelledLocalID(ctx context.Context, store storage.Store, sys *types.SystemContext, b layoutBase) (string, error) {
	ref := index.LocalReference(store, b.Image)
	if ref == nil {
		return "", nil
	}
	m, _, err := entryLabel(ctx, store, sys, ref, baseNeed{Image: b.Image, Platform: b.Platform})
	if err != nil || m == nil {
		return "", err
	}
	imgs, err := store.ImagesByDigest(m.ManifestDigest)
	if err != nil || len(imgs) == 0 {
		return "", fmt.Errorf("no image in local storage has manifest %s, which its index entry for %s names: %v", m.ManifestDigest, emulation.FormatPlatform(m.Entry), err)
	}
	return imgs[0].ID, nil
}
