package index

import (
	"fmt"
	"strings"

	"go.podman.io/image/v5/docker/reference"
)

// NormalizeName turns a user's tag into the name local storage records, as
// podman and buildah do: "app:1" is localhost/app:1, "app" is
// localhost/app:latest, "quay.io/x/app" is quay.io/x/app:latest.
func NormalizeName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty image name")
	}
	candidate := name
	first, _, hasSlash := strings.Cut(name, "/")
	if !hasSlash || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		candidate = "localhost/" + name
	}
	named, err := reference.ParseNamed(candidate)
	if err != nil {
		return "", fmt.Errorf("invalid image name %q: %w (use [REGISTRY/]REPOSITORY[:TAG], lower case)", name, err)
	}
	if _, ok := named.(reference.Digested); ok {
		return "", fmt.Errorf("invalid image name %q: a tag cannot contain a digest", name)
	}
	return reference.TagNameOnly(named).String(), nil
}

// NormalizeNames normalises every name, failing on the first invalid one.
func NormalizeNames(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		nn, err := NormalizeName(n)
		if err != nil {
			return nil, err
		}
		out = append(out, nn)
	}
	return out, nil
}

// TagOf returns the tag part of a normalised name ("1" for localhost/app:1),
// used as the ref name of an OCI layout.
func TagOf(name string) string {
	named, err := reference.ParseNamed(name)
	if err != nil {
		return "latest"
	}
	if t, ok := reference.TagNameOnly(named).(reference.Tagged); ok {
		return t.Tag()
	}
	return "latest"
}
