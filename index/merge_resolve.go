package index

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/types"
)

// mergeWant is one child to look up: a digest said to be in a source, for
// a platform (nil: its config's).
type mergeWant struct {
	src      MergeSource
	digest   digest.Digest
	platform *specs.Platform
}

// resolve reads every child the sources name, checks it, and returns the
// children in argument order, a child named twice (by a metadata file
// and by its layout, say) once.
func (m *merge) resolve(ctx context.Context, srcs []MergeSource) ([]mergeChild, error) {
	if len(srcs) == 0 {
		return nil, errors.New("no source given: pass metadata files with --from-metadata, REG/REPO@sha256:... or oci:DIR")
	}
	var layouts []types.ImageReference
	for _, s := range srcs {
		if s.Ref != nil && s.Ref.Transport().Name() != "docker" {
			layouts = append(layouts, s.Ref)
		}
	}
	var out []mergeChild
	for _, s := range srcs {
		ws, err := m.expand(ctx, s)
		if err != nil {
			return nil, err
		}
		for _, w := range ws {
			c, err := m.read(ctx, w, layouts)
			if err != nil {
				return nil, err
			}
			if out, err = addChild(out, c); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// expand lists what a source names: its one digest, or the entries of
// its top manifest when it names none.
func (m *merge) expand(ctx context.Context, s MergeSource) ([]mergeWant, error) {
	if s.Digest != "" {
		return []mergeWant{{src: s, digest: s.Digest, platform: s.Platform}}, nil
	}
	src, err := m.open(ctx, s.Ref)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.Origin, Explain(err, s.Origin))
	}
	raw, mime, err := src.GetManifest(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading manifest of %s: %w", s.Origin, Explain(err, s.Origin))
	}
	if !manifest.MIMETypeIsMultiImage(mime) {
		return []mergeWant{{src: s, digest: digest.FromBytes(raw), platform: s.Platform}}, nil
	}
	list, err := manifest.ListFromBlob(raw, mime)
	if err != nil {
		return nil, fmt.Errorf("parsing index %s: %w", s.Origin, err)
	}
	var out []mergeWant
	for _, d := range list.Instances() {
		inst, err := list.Instance(d)
		if err != nil {
			return nil, err
		}
		if p := inst.ReadOnly.Platform; p != nil && usable(*p) {
			out = append(out, mergeWant{src: s, digest: d, platform: p})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("index %s has no entry with a platform", s.Origin)
	}
	return out, nil
}

// read fetches the child w names, checks its digest, that it is an
// image, and that its config is for the platform it is said to be for.
func (m *merge) read(ctx context.Context, w mergeWant, layouts []types.ImageReference) (mergeChild, error) {
	d := w.digest
	src, raw, mime, err := m.locate(ctx, w, layouts)
	if err != nil {
		return mergeChild{}, err
	}
	where := locationName(w.src.Ref)
	if got := digest.FromBytes(raw); got != d {
		return mergeChild{}, fmt.Errorf("child %s of %s: %s returned a manifest with digest %s", d, w.src.Origin, where, got)
	}
	if manifest.MIMETypeIsMultiImage(mime) {
		return mergeChild{}, fmt.Errorf("child %s of %s is an index, not an image: name the index itself (REG/REPO@%s) to take its entries", d, w.src.Origin, d)
	}
	man, err := manifest.FromBlob(raw, mime)
	if err != nil {
		return mergeChild{}, fmt.Errorf("parsing manifest %s of %s: %w", d, w.src.Origin, err)
	}
	p, err := configPlatform(ctx, m.sys, src, &d)
	if err != nil {
		return mergeChild{}, fmt.Errorf("reading the config of %s of %s: %w", d, w.src.Origin, Explain(err, where))
	}
	if err := checkPlatform(w, p); err != nil {
		return mergeChild{}, err
	}
	return mergeChild{child: child{digest: d, raw: raw, blobs: manifestBlobs(man)}, source: src, mediaType: mime, platform: p, origin: w.src.Origin}, nil
}

// checkPlatform fails when the config's platform is not the one the
// child is said to be for, or names no runnable platform.
func checkPlatform(w mergeWant, config specs.Platform) error {
	if !usable(config) {
		return fmt.Errorf("child %s of %s has no platform in its config (os %q, architecture %q): it cannot be an index entry", w.digest, w.src.Origin, config.OS, config.Architecture)
	}
	if w.platform == nil {
		return nil
	}
	want := emulation.FormatPlatform(emulation.NormalizePlatform(*w.platform))
	got := emulation.FormatPlatform(emulation.NormalizePlatform(config))
	if want != got {
		return fmt.Errorf("child %s of %s is said to be %s, but its config says %s: rebuild that platform, or fix the metadata file", w.digest, w.src.Origin, want, got)
	}
	return nil
}

// addChild appends c unless the same manifest is there already; two
// different manifests for one platform are an error naming both.
func addChild(children []mergeChild, c mergeChild) ([]mergeChild, error) {
	key := emulation.FormatPlatform(emulation.NormalizePlatform(c.platform))
	for _, o := range children {
		if o.digest == c.digest {
			return children, nil
		}
		if emulation.FormatPlatform(emulation.NormalizePlatform(o.platform)) == key {
			return nil, fmt.Errorf("two children for %s: %s from %s and %s from %s; merge one image per platform (drop one source)",
				key, o.digest, o.origin, c.digest, c.origin)
		}
	}
	return append(children, c), nil
}

// childRef returns the reference to read child d through: in a registry,
// its repository by digest (the destination's when ref is nil), since a
// registry source is opened by reading its manifest; an OCI layout as it is.
func (m *merge) childRef(ref types.ImageReference, d digest.Digest) (types.ImageReference, error) {
	if ref == nil {
		ref = m.dest
	}
	if ref.Transport().Name() != "docker" || ref.DockerReference() == nil {
		return ref, nil
	}
	named, err := reference.WithDigest(reference.TrimNamed(ref.DockerReference()), d)
	if err != nil {
		return nil, err
	}
	return docker.NewReference(named)
}

// locate reads child w's manifest where its source says; a child whose
// source names no place (a metadata file of a layout build) is looked for
// in the layouts given as sources, then in the destination's repository.
func (m *merge) locate(ctx context.Context, w mergeWant, layouts []types.ImageReference) (types.ImageSource, []byte, string, error) {
	places := []types.ImageReference{w.src.Ref}
	if w.src.Ref == nil {
		places = append(append([]types.ImageReference{}, layouts...), m.dest)
	}
	var errs []string
	for _, place := range places {
		ref, err := m.childRef(place, w.digest)
		if err != nil {
			return nil, nil, "", err
		}
		src, raw, mime, err := m.fetch(ctx, ref, w.digest)
		if err == nil {
			return src, raw, mime, nil
		}
		if !isNotFound(err) && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, "", fmt.Errorf("reading child %s of %s in %s: %w", w.digest, w.src.Origin, locationName(place), Explain(err, locationName(place)))
		}
		errs = append(errs, locationName(place))
	}
	return nil, nil, "", fmt.Errorf("child %s of %s is not in %s; publish it there first (build --push-by-digest), or pass the layout holding it as oci:DIR",
		w.digest, w.src.Origin, strings.Join(errs, " nor in "))
}

// locationName names where a child is looked for: a registry repository
// or a layout.
func locationName(ref types.ImageReference) string {
	switch {
	case ref == nil:
		return "the destination's repository"
	case ref.Transport().Name() == "docker" && ref.DockerReference() != nil:
		return reference.TrimNamed(ref.DockerReference()).String()
	}
	return transportName(ref)
}

// fetch reads manifest d through ref.
func (m *merge) fetch(ctx context.Context, ref types.ImageReference, d digest.Digest) (types.ImageSource, []byte, string, error) {
	src, err := m.open(ctx, ref)
	if err != nil {
		return nil, nil, "", err
	}
	raw, mime, err := src.GetManifest(ctx, &d)
	return src, raw, mime, err
}
