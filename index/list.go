package index

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/common/libimage/manifests"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/storage"
)

// List is an image index kept in local storage under a name, as
// `podman manifest` and `buildah manifest` keep theirs: podman sees it.
type List struct {
	// Name is the normalised name the index was looked up or created by;
	// empty when it was found by image ID.
	Name string
	// ID is the index's image ID in local storage.
	ID string
	// Digest is the digest of the index serialised as an OCI image index.
	Digest digest.Digest
	// Entries are the index's manifests, in index order.
	Entries []Entry
	// Annotations are the index-level annotations.
	Annotations map[string]string
}

// Entry is one manifest of an index.
type Entry struct {
	// Digest is the manifest's digest.
	Digest digest.Digest
	// MediaType is the manifest's media type.
	MediaType string
	// Platform is the platform the entry declares; zero when it has none.
	Platform specs.Platform
	// Annotations are the entry's annotations.
	Annotations map[string]string
}

// String formats the entry as "sha256:... linux/arm64".
func (e Entry) String() string {
	if e.Platform.OS == "" && e.Platform.Architecture == "" {
		return e.Digest.String() + " (no platform)"
	}
	return e.Digest.String() + " " + emulation.FormatPlatform(e.Platform)
}

// stored is an index loaded from local storage for reading or editing.
type stored struct {
	name  string
	image *storage.Image
	list  manifests.List
}

// errNoList marks a name that local storage does not know.
var errNoList = errors.New("no such index in local storage")

// openList loads the index known as name or by image ID.
func openList(store storage.Store, name string) (*stored, error) {
	img, canonical, err := findImage(store, name)
	if err != nil {
		return nil, err
	}
	return loadList(store, img, canonical, name)
}

// loadList loads the index stored as img; name is what the user typed.
func loadList(store storage.Store, img *storage.Image, canonical, name string) (*stored, error) {
	raw, err := store.ImageBigData(img.ID, storage.ImageDigestManifestBigDataNamePrefix)
	if err != nil {
		return nil, fmt.Errorf("reading manifest of %s: %w", name, err)
	}
	if !manifest.MIMETypeIsMultiImage(manifest.GuessMIMEType(raw)) {
		return nil, fmt.Errorf("%s is an image, not an index: pick another name, or create an index holding it with `polyarch index create NAME %s`", name, name)
	}
	_, list, err := manifests.LoadFromImage(store, img.ID)
	if err != nil {
		return nil, fmt.Errorf("loading index %s: %w", name, err)
	}
	return &stored{name: canonical, image: img, list: list}, nil
}

// findImage looks name up as a normalised name, then as an image ID or ID
// prefix. It returns the image and the normalised name ("" for an ID).
func findImage(store storage.Store, name string) (*storage.Image, string, error) {
	canonical, nameErr := NormalizeName(name)
	if nameErr == nil {
		if img, err := store.Image(canonical); err == nil {
			return img, canonical, nil
		}
	}
	if img, err := store.Image(name); err == nil && strings.HasPrefix(img.ID, name) {
		return img, "", nil
	}
	if nameErr != nil {
		return nil, "", nameErr
	}
	return nil, "", fmt.Errorf("%w: %s: create it with `polyarch index create %s SOURCE...`", errNoList, canonical, name)
}

// summary describes the loaded index.
func (s *stored) summary() (*List, error) {
	raw, err := s.list.Serialize(specs.MediaTypeImageIndex)
	if err != nil {
		return nil, fmt.Errorf("serialising index %s: %w", s.label(), err)
	}
	return describeList(s.name, s.image.ID, digest.FromBytes(raw), s.list), nil
}

// label names the index in messages: its name, else its ID.
func (s *stored) label() string {
	if s.name != "" {
		return s.name
	}
	return s.image.ID
}

// describeList turns a manifests.List into a List.
func describeList(name, id string, d digest.Digest, list manifests.List) *List {
	idx := list.OCIv1()
	out := &List{Name: name, ID: id, Digest: d, Annotations: cloneMap(idx.Annotations)}
	for _, m := range idx.Manifests {
		e := Entry{Digest: m.Digest, MediaType: m.MediaType, Annotations: cloneMap(m.Annotations)}
		if m.Platform != nil {
			e.Platform = *m.Platform
			e.Platform.OSFeatures = slices.Clip(m.Platform.OSFeatures)
			if len(e.Platform.OSFeatures) == 0 {
				e.Platform.OSFeatures = nil
			}
		}
		out.Entries = append(out.Entries, e)
	}
	return out
}

// cloneMap copies m; empty maps become nil, as they read back from storage.
func cloneMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// commit stores list as a new index image, moves names onto it (every
// name of the image it replaces, if any), and removes the replaced image.
// Until the names move, they keep the old index: a failure leaves them
// as they were.
func commit(store storage.Store, list manifests.List, old *storage.Image, names []string) (string, error) {
	id, err := list.SaveToImage(store, "", nil, specs.MediaTypeImageIndex)
	if err != nil {
		return "", fmt.Errorf("saving index to local storage: %w", err)
	}
	if old != nil {
		names = append(append([]string{}, old.Names...), names...)
	}
	if err := Tag(store, id, names); err != nil {
		_ = Discard(store, id)
		return "", err
	}
	if old != nil {
		// The old index is unreachable by name now; failing to delete it
		// leaves a dangling image, not a wrong result.
		_, _ = store.DeleteImage(old.ID, true)
	}
	return id, nil
}

// edit loads the index name under the lock podman and buildah take on an
// index being edited, lets change modify it, and commits the result,
// returning the new state.
func edit(store storage.Store, name string, change func(*stored) error) (*List, error) {
	img, canonical, err := findImage(store, name)
	if err != nil {
		return nil, err
	}
	locker, err := manifests.LockerForImage(store, img.ID)
	if err != nil {
		return nil, fmt.Errorf("locking index %s: %w", name, err)
	}
	locker.Lock()
	defer locker.Unlock()
	again, _, err := findImage(store, name)
	if err != nil || again.ID != img.ID {
		return nil, fmt.Errorf("index %s changed while being edited: run the command again", name)
	}
	s, err := loadList(store, again, canonical, name)
	if err != nil {
		return nil, err
	}
	if err := change(s); err != nil {
		return nil, err
	}
	id, err := commit(store, s.list, s.image, nil)
	if err != nil {
		return nil, err
	}
	s.image = &storage.Image{ID: id}
	return s.summary()
}
