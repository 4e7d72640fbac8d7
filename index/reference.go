package index

import (
	"fmt"
	"strings"

	"go.podman.io/image/v5/docker/reference"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// transportsHelp lists the accepted forms of an image reference.
const transportsHelp = "use docker://REGISTRY/REPO:TAG, oci:DIR[:TAG], oci-archive:FILE[:TAG], containers-storage:NAME, or a bare NAME"

// ParseReference turns a user's image reference into a types.ImageReference.
// A transport prefix (docker://, oci:, oci-archive:, containers-storage:,
// dir:, docker-archive:) is honoured; a bare name means local storage when
// store holds it (store may be nil), else its registry, as podman does.
func ParseReference(s string, store storage.Store) (types.ImageReference, error) {
	if s == "" {
		return nil, fmt.Errorf("empty image reference: %s", transportsHelp)
	}
	if HasTransport(s) {
		ref, err := alltransports.ParseImageName(s)
		if err != nil {
			return nil, fmt.Errorf("invalid image reference %q: %w (%s)", s, err, transportsHelp)
		}
		return ref, nil
	}
	if store != nil {
		if ref := LocalReference(store, s); ref != nil {
			return ref, nil
		}
	}
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return nil, fmt.Errorf("invalid image reference %q: %w (%s)", s, err, transportsHelp)
	}
	return alltransports.ParseImageName("docker://" + reference.TagNameOnly(named).String())
}

// HasTransport reports whether s starts with a known transport name, and
// is not a registry host:port such as localhost:5000/app.
func HasTransport(s string) bool {
	if alltransports.TransportFromImageName(s) == nil {
		return false
	}
	before, after, _ := strings.Cut(s, ":")
	port, _, _ := strings.Cut(after, "/")
	hostPort := !strings.Contains(before, "/") && port != "" && strings.Trim(port, "0123456789") == ""
	return !hostPort
}

// LocalReference returns a containers-storage reference to the image store
// knows as name (tried as given, normalised as podman stores it, and as
// docker.io/...), or nil.
func LocalReference(store storage.Store, name string) types.ImageReference {
	candidates := []string{name}
	if n, err := NormalizeName(name); err == nil {
		candidates = append(candidates, n)
	}
	if named, err := reference.ParseNormalizedNamed(name); err == nil {
		candidates = append(candidates, reference.TagNameOnly(named).String())
	}
	for _, c := range candidates {
		img, err := store.Image(c)
		if err != nil {
			continue
		}
		if ref, err := is.Transport.NewStoreReference(store, nil, img.ID); err == nil {
			return ref
		}
	}
	return nil
}
