package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	"golang.org/x/sync/errgroup"
)

// An index entry's platform is a label; the image's config says what its
// binaries are. A base whose arm64 entry points at an amd64 image would
// give an "arm64" image of amd64 binaries, so before any step runs each
// (base, platform) pair the build needs has the config of the image it
// resolves to compared with the entry's label.

// mislabel is one index entry whose platform differs from its config's.
type mislabel struct {
	Image          string
	Entry, Config  specs.Platform
	ManifestDigest digest.Digest
}

// String names the base, the entry's platform and the config's.
func (m mislabel) String() string {
	return fmt.Sprintf("%s: its index entry for %s (manifest %s) holds an image whose config says %s",
		m.Image, emulation.FormatPlatform(m.Entry), m.ManifestDigest, emulation.FormatPlatform(m.Config))
}

// labelReads bounds the base entries checkBaseLabels reads at once.
const labelReads = 4

// checkBaseLabels compares, for every base and platform the build needs,
// the index entry's platform with the config's. A mismatch is an error
// naming each one, or, with o.AllowMislabelledBase, a warning on o.Stderr.
func checkBaseLabels(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, needs []baseNeed) error {
	// Every (base, platform) is read at the same time, reported in order.
	marks, errs := make([]*mislabel, len(needs)), make([]error, len(needs))
	var g errgroup.Group
	g.SetLimit(labelReads)
	for i, n := range needs {
		g.Go(func() error {
			marks[i], errs[i] = baseLabel(ctx, o, store, sys, n)
			return nil
		})
	}
	_ = g.Wait()
	var found []string
	for i, n := range needs {
		if errs[i] != nil {
			return fmt.Errorf("checking the platform of base image %s for %s: %w", n.Image, emulation.FormatPlatform(n.Platform), errs[i])
		}
		if marks[i] != nil {
			found = append(found, marks[i].String())
		}
	}
	if len(found) == 0 {
		return nil
	}
	if o.AllowMislabelledBase {
		warnMislabelled(o.Stderr, found)
		return nil
	}
	return fmt.Errorf("base images are mislabelled, nothing was built:\n  %s\n(its binaries are not for the platform the index claims: fix the base's index, choose another base, or pass --allow-mislabelled-base to build from it anyway)",
		strings.Join(found, "\n  "))
}

// warnMislabelled writes one warning line per mislabelled entry.
func warnMislabelled(w io.Writer, found []string) {
	if w == nil {
		return
	}
	for _, f := range found {
		fmt.Fprintf(w, "WARNING: building from a mislabelled base (--allow-mislabelled-base): %s\n", f)
	}
}

// baseLabel resolves n as the build would (the first source that offers
// its platform) and returns its entry when the label and config differ.
func baseLabel(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, n baseNeed) (*mislabel, error) {
	refs, err := baseReferences(o, store, sys, n.Image)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, ref := range refs {
		m, ok, err := entryLabel(ctx, store, sys, ref, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			return m, nil
		}
	}
	if len(errs) > 0 && len(errs) == len(refs) {
		return nil, errors.Join(errs...)
	}
	return nil, nil
}

// entryLabel reads the entry of ref's index that serves n.Platform and
// its config. ok is false when ref is an index without such an entry, so
// the next source is tried; a single image has nothing to compare.
func entryLabel(ctx context.Context, store storage.Store, sys *types.SystemContext, ref types.ImageReference, n baseNeed) (m *mislabel, ok bool, err error) {
	src, err := metadataSource(ctx, sys, ref)
	if err != nil {
		return nil, false, err
	}
	defer src.Close()
	raw, mime, err := src.GetManifest(ctx, nil)
	if err != nil {
		return nil, false, err
	}
	if !manifest.MIMETypeIsMultiImage(mime) {
		return nil, true, nil // a single image: its config is its only label
	}
	list, err := manifest.ListFromBlob(raw, mime)
	if err != nil {
		return nil, false, fmt.Errorf("parsing the index of %s: %w", n.Image, err)
	}
	entry, d, found := findEntry(list, n.Platform)
	if !found {
		return nil, false, nil
	}
	config, err := instancePlatform(ctx, store, sys, src, d)
	if err != nil {
		return nil, false, fmt.Errorf("reading the config of manifest %s of %s: %w", d, n.Image, err)
	}
	if samePlatform(entry, config) {
		return nil, true, nil
	}
	return &mislabel{Image: n.Image, Entry: entry, Config: config, ManifestDigest: d}, true, nil
}

// instancePlatform returns the platform the config of instance d of the
// index src says. In local storage an index and its instances are
// separate images: the instance is found by its manifest digest.
func instancePlatform(ctx context.Context, store storage.Store, sys *types.SystemContext, src types.ImageSource, d digest.Digest) (specs.Platform, error) {
	if src.Reference().Transport().Name() == is.Transport.Name() {
		imgs, err := store.ImagesByDigest(d)
		if err != nil || len(imgs) == 0 {
			return specs.Platform{}, fmt.Errorf("no image in local storage has manifest %s: %v", d, err)
		}
		ref, err := is.Transport.NewStoreReference(store, nil, imgs[0].ID)
		if err != nil {
			return specs.Platform{}, err
		}
		isrc, err := ref.NewImageSource(ctx, sys)
		if err != nil {
			return specs.Platform{}, err
		}
		defer isrc.Close()
		src, d = isrc, ""
	}
	var instance *digest.Digest
	if d != "" {
		instance = &d
	}
	img, err := image.FromUnparsedImage(ctx, sys, image.UnparsedInstance(src, instance))
	if err != nil {
		return specs.Platform{}, err
	}
	cfg, err := img.OCIConfig(ctx)
	if err != nil {
		return specs.Platform{}, err
	}
	return specs.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}, nil
}

// findEntry returns the first usable entry of list for want, as the
// build's pull chooses it (normalised, variants compared when both set).
func findEntry(list manifest.List, want specs.Platform) (specs.Platform, digest.Digest, bool) {
	for _, d := range list.Instances() {
		inst, err := list.Instance(d)
		if err != nil || inst.ReadOnly.Platform == nil {
			continue
		}
		if p := *inst.ReadOnly.Platform; samePlatform(p, want) {
			return p, d, true
		}
	}
	return specs.Platform{}, "", false
}

// samePlatform compares two platforms after normalisation: OS and
// architecture always, the variant when both name one.
func samePlatform(a, b specs.Platform) bool {
	a, b = emulation.NormalizePlatform(a), emulation.NormalizePlatform(b)
	if a.OS != b.OS || a.Architecture != b.Architecture {
		return false
	}
	return a.Variant == "" || b.Variant == "" || a.Variant == b.Variant
}
