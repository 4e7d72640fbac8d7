package index

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	digest "github.com/opencontainers/go-digest"
	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/types"
)

// metadataFile holds the keys of a --metadata-file (polyarch build's, or
// buildx's) that a merge reads.
type metadataFile struct {
	Digest    digest.Digest `json:"containerimage.digest"`
	Name      string        `json:"image.name"`
	Platforms []struct {
		Platform string        `json:"platform"`
		Digest   digest.Digest `json:"containerimage.digest"`
	} `json:"polyarch.platforms"`
}

// ReadMetadataFile returns the children a build's --metadata-file
// describes: each platform image of polyarch.platforms, said to be for
// its platform, or, in a file without that key (buildx's), the result
// containerimage.digest. They live in the repository of the first
// image.name (REG/REPO@sha256:... after --push-by-digest, REG/REPO:TAG
// after --push); a file naming no registry (an OCI layout build) leaves
// them to be found in the destination's repository, or in an oci:DIR
// source given alongside.
func ReadMetadataFile(path string) ([]MergeSource, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading metadata file: %w", err)
	}
	var md metadataFile
	if err := json.Unmarshal(data, &md); err != nil {
		return nil, fmt.Errorf("parsing metadata file %s: %w", path, err)
	}
	if md.Digest == "" && len(md.Platforms) == 0 {
		return nil, fmt.Errorf("metadata file %s has no containerimage.digest: write it with polyarch build --metadata-file", path)
	}
	repo, err := metadataRepository(md.Name)
	if err != nil {
		return nil, fmt.Errorf("metadata file %s: %w", path, err)
	}
	if len(md.Platforms) == 0 {
		return []MergeSource{{Ref: repo, Digest: md.Digest, Origin: path}}, nil
	}
	out := make([]MergeSource, len(md.Platforms))
	for i, p := range md.Platforms {
		pl, err := emulation.ParsePlatform(p.Platform)
		if err != nil {
			return nil, fmt.Errorf("metadata file %s: %w", path, err)
		}
		if err := p.Digest.Validate(); err != nil {
			return nil, fmt.Errorf("metadata file %s: %s: invalid containerimage.digest %q: %w", path, p.Platform, p.Digest, err)
		}
		out[i] = MergeSource{Ref: repo, Digest: p.Digest, Platform: &pl, Origin: path + " (" + p.Platform + ")"}
	}
	return out, nil
}

// metadataRepository returns the registry repository of the first name
// of image.name, nil for none or a local-storage name.
func metadataRepository(names string) (types.ImageReference, error) {
	first, _, _ := strings.Cut(names, ",")
	if first = strings.TrimSpace(first); first == "" || strings.HasPrefix(first, "localhost/") {
		return nil, nil
	}
	named, err := reference.ParseNormalizedNamed(first)
	if err != nil {
		return nil, fmt.Errorf("invalid image.name %q: %w", first, err)
	}
	return docker.NewReference(reference.TagNameOnly(reference.TrimNamed(named))) // read by digest, see childRef
}
