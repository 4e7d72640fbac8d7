package index

import (
	"context"
	"fmt"
	"strings"

	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/common/libimage/manifests"
	"go.podman.io/image/v5/manifest"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// candidate is one manifest a source can contribute to an index.
type candidate struct {
	ref types.ImageReference
	// source names where the entry comes from, for messages.
	source string
	digest digest.Digest
	// declared is the platform as the source index declares it, used to
	// select the entry; platform is its normalised form.
	declared, platform specs.Platform
	fromIndex          bool
}

// describe returns what ref can contribute: its one image, or each entry
// with a runnable platform if it is an index. The entries of an index in
// local storage refer to their own images in store, which is where
// containers/image reads them.
func describe(ctx context.Context, sys *types.SystemContext, store storage.Store, ref types.ImageReference) ([]candidate, error) {
	name := transportName(ref)
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, Explain(err, name))
	}
	raw, mime, err := src.GetManifest(ctx, nil)
	src.Close()
	if err != nil {
		return nil, fmt.Errorf("reading manifest of %s: %w", name, Explain(err, name))
	}
	if manifest.MIMETypeIsMultiImage(mime) {
		cands, err := indexCandidates(ref, raw, mime)
		if err != nil || ref.Transport().Name() != is.Transport.Name() {
			return cands, err
		}
		return storedChildren(store, cands)
	}
	d, err := manifest.Digest(raw)
	if err != nil {
		return nil, fmt.Errorf("computing digest of %s: %w", name, err)
	}
	ps, err := Platforms(ctx, sys, ref)
	if err != nil {
		return nil, err
	}
	c := candidate{ref: ref, source: name, digest: d}
	if len(ps) == 1 {
		c.declared, c.platform = ps[0], ps[0]
	}
	return []candidate{c}, nil
}

// indexCandidates returns the entries of an index source that carry a
// runnable platform.
func indexCandidates(ref types.ImageReference, raw []byte, mime string) ([]candidate, error) {
	list, err := manifest.ListFromBlob(raw, mime)
	if err != nil {
		return nil, fmt.Errorf("parsing index %s: %w", transportName(ref), err)
	}
	var out []candidate
	for _, d := range list.Instances() {
		inst, err := list.Instance(d)
		if err != nil {
			return nil, err
		}
		if p := inst.ReadOnly.Platform; p != nil && usable(*p) {
			out = append(out, candidate{ref: ref, source: transportName(ref), digest: d,
				declared: *p, platform: emulation.NormalizePlatform(*p), fromIndex: true})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("index %s has no entry with a platform", transportName(ref))
	}
	return out, nil
}

// storedChildren points the entries of an index in local storage at the
// images in store that hold them.
func storedChildren(store storage.Store, cands []candidate) ([]candidate, error) {
	for i, c := range cands {
		imgs, err := store.ImagesByDigest(c.digest)
		if err != nil || len(imgs) == 0 {
			return nil, fmt.Errorf("index %s lists %s for %s, but local storage has no image with that digest: %w", c.source, c.digest, c.label(), storage.ErrImageUnknown)
		}
		ref, err := is.Transport.NewStoreReference(store, nil, imgs[0].ID)
		if err != nil {
			return nil, err
		}
		cands[i].ref, cands[i].fromIndex = ref, false
	}
	return cands, nil
}

// pick keeps the index entries whose platform is wanted (all when wanted
// is empty) and every single image. Each wanted platform must be found.
func pick(cands []candidate, wanted []specs.Platform) ([]candidate, error) {
	if len(wanted) == 0 {
		return cands, nil
	}
	var out []candidate
	found := make([]bool, len(wanted))
	for _, c := range cands {
		keep := !c.fromIndex
		for i, w := range wanted {
			if platforms.OnlyStrict(w).Match(c.platform) {
				keep, found[i] = true, true
			}
		}
		if keep {
			out = append(out, c)
		}
	}
	for i, ok := range found {
		if !ok {
			return nil, fmt.Errorf("no source offers %s: %s; drop it from --platform", emulation.FormatPlatform(wanted[i]), offered(cands))
		}
	}
	return out, nil
}

// offered lists what each source offers, for messages.
func offered(cands []candidate) string {
	var parts []string
	by := map[string][]specs.Platform{}
	for _, c := range cands {
		if _, seen := by[c.source]; !seen {
			parts = append(parts, c.source)
		}
		by[c.source] = append(by[c.source], c.platform)
	}
	for i, s := range parts {
		parts[i] = s + " has " + FormatPlatforms(by[s])
	}
	return strings.Join(parts, "; ")
}

// existing returns the entries already in list as candidates, so that
// new sources are checked against them.
func existing(list manifests.List, listName string) []candidate {
	var out []candidate
	for _, m := range list.OCIv1().Manifests {
		c := candidate{source: fmt.Sprintf("index %s (entry %s)", listName, m.Digest), digest: m.Digest}
		if m.Platform != nil && usable(*m.Platform) {
			c.declared, c.platform = *m.Platform, emulation.NormalizePlatform(*m.Platform)
		}
		out = append(out, c)
	}
	return out
}

// resolveDuplicates finds platforms that a new candidate gives again.
// With replace, the later entry wins: it returns the digests of existing
// entries to remove and the new candidates to add. Without, it fails
// naming every clash.
func resolveDuplicates(old, cands []candidate, replace bool) ([]digest.Digest, []candidate, error) {
	all := append(append([]candidate{}, old...), cands...)
	winner := map[string]int{}
	lost := make([]bool, len(all))
	var clashes []string
	for i, c := range all {
		if c.platform.OS == "" {
			continue
		}
		key := emulation.FormatPlatform(c.platform)
		if j, ok := winner[key]; ok && i >= len(old) {
			clashes = append(clashes, fmt.Sprintf("%s comes from both %s and %s", key, all[j].source, c.source))
			lost[j] = true
		}
		winner[key] = i
	}
	if len(clashes) > 0 && !replace {
		return nil, nil, fmt.Errorf("%s: pass --replace to keep the later one, or --platform to pick", strings.Join(clashes, "; "))
	}
	var losers []digest.Digest
	var keep []candidate
	for i, c := range all {
		switch {
		case i < len(old) && lost[i]:
			losers = append(losers, c.digest)
		case i >= len(old) && !lost[i]:
			keep = append(keep, c)
		}
	}
	return losers, keep, nil
}

// addTo adds the candidate to list, recording its source for pushes, and
// makes its entry's platform that of its image config (setPlatform).
func (c candidate) addTo(ctx context.Context, sys *types.SystemContext, list manifests.List) error {
	choice := sys
	if c.fromIndex {
		s := types.SystemContext{}
		if sys != nil {
			s = *sys
		}
		s.OSChoice, s.ArchitectureChoice, s.VariantChoice = c.declared.OS, c.declared.Architecture, c.declared.Variant
		choice = &s
	}
	d, err := list.Add(ctx, choice, c.ref, false)
	if err != nil {
		return fmt.Errorf("adding %s of %s: %w", c.label(), c.source, Explain(err, c.source))
	}
	if d != c.digest {
		return fmt.Errorf("adding %s of %s: the source changed while being read (got %s, want %s): run the command again", c.label(), c.source, d, c.digest)
	}
	if c.platform.OS == "" {
		return nil
	}
	var instance *digest.Digest
	if c.fromIndex {
		instance = &d
	}
	if err := setPlatform(ctx, sys, list, d, c.ref, instance); err != nil {
		return fmt.Errorf("recording the platform of %s of %s: %w", c.label(), c.source, Explain(err, c.source))
	}
	return nil
}

// label names the candidate's platform, or its digest if it has none.
func (c candidate) label() string {
	if c.platform.OS == "" {
		return c.digest.String()
	}
	return emulation.FormatPlatform(c.platform)
}
