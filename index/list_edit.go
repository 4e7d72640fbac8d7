package index

import (
	"fmt"
	"strings"

	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/storage"
)

// Remove removes from the stored index name the entry that sel selects:
// a manifest digest (or a unique prefix of one, "sha256:" included), or a
// platform such as linux/arm64 that exactly one entry has.
func Remove(store storage.Store, name, sel string) (*List, error) {
	return edit(store, name, func(s *stored) error {
		d, err := s.find(sel)
		if err != nil {
			return fmt.Errorf("removing from index %s: %w", s.label(), err)
		}
		return s.list.Remove(d)
	})
}

// AnnotateOptions says what Annotate changes; empty fields stay as they are.
type AnnotateOptions struct {
	// OS, Architecture, Variant and OSVersion set the entry's platform.
	OS, Architecture, Variant, OSVersion string
	// Annotations are added to the entry, or to the index when the
	// selector is empty; an existing key is overwritten.
	Annotations map[string]string
}

// Annotate changes the entry of the stored index name that sel selects
// (as for Remove) or, when sel is empty, the index itself, which takes
// only annotations.
func Annotate(store storage.Store, name, sel string, opts AnnotateOptions) (*List, error) {
	platformSet := opts.OS != "" || opts.Architecture != "" || opts.Variant != "" || opts.OSVersion != ""
	if sel == "" && platformSet {
		return nil, fmt.Errorf("annotating index %s: --os, --arch, --variant and --os-version apply to an entry: name one by digest or platform", name)
	}
	if !platformSet && len(opts.Annotations) == 0 {
		return nil, fmt.Errorf("annotating index %s: nothing to change: pass --annotation KEY=VALUE, --os, --arch, --variant or --os-version", name)
	}
	return edit(store, name, func(s *stored) error {
		if sel == "" {
			return s.list.SetAnnotations(nil, opts.Annotations)
		}
		d, err := s.find(sel)
		if err != nil {
			return fmt.Errorf("annotating index %s: %w", s.label(), err)
		}
		return s.annotate(d, opts)
	})
}

// annotate applies opts to the entry d.
func (s *stored) annotate(d digest.Digest, opts AnnotateOptions) error {
	for _, set := range []struct {
		value string
		apply func(digest.Digest, string) error
	}{
		{opts.OS, s.list.SetOS},
		{opts.Architecture, s.list.SetArchitecture},
		{opts.Variant, s.list.SetVariant},
		{opts.OSVersion, s.list.SetOSVersion},
	} {
		if set.value == "" {
			continue
		}
		if err := set.apply(d, set.value); err != nil {
			return fmt.Errorf("annotating entry %s of %s: %w", d, s.label(), err)
		}
	}
	if len(opts.Annotations) == 0 {
		return nil
	}
	return s.list.SetAnnotations(&d, opts.Annotations)
}

// find returns the digest of the one entry sel selects.
func (s *stored) find(sel string) (digest.Digest, error) {
	entries := describeList(s.name, s.image.ID, "", s.list).Entries
	var match []Entry
	if strings.HasPrefix(sel, digest.Canonical.String()+":") {
		for _, e := range entries {
			if strings.HasPrefix(e.Digest.String(), sel) {
				match = append(match, e)
			}
		}
	} else if p, err := emulation.ParsePlatform(sel); err == nil {
		m := platforms.OnlyStrict(p)
		for _, e := range entries {
			if e.Platform.OS != "" && m.Match(emulation.NormalizePlatform(e.Platform)) {
				match = append(match, e)
			}
		}
	} else {
		return "", fmt.Errorf("invalid entry %q: use a digest (sha256:...) or a platform (linux/arm64)", sel)
	}
	switch len(match) {
	case 1:
		return match[0].Digest, nil
	case 0:
		return "", fmt.Errorf("no entry %s: %s", sel, listEntries(entries))
	}
	return "", fmt.Errorf("%s matches %d entries (%s): name one by digest", sel, len(match), joinEntries(match))
}

// listEntries says what an index holds, for messages.
func listEntries(entries []Entry) string {
	if len(entries) == 0 {
		return "the index is empty"
	}
	return "it has " + joinEntries(entries)
}

// joinEntries formats entries as "sha256:... linux/amd64, ...".
func joinEntries(entries []Entry) string {
	parts := make([]string, len(entries))
	for i, e := range entries {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}
