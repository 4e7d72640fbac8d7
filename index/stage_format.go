package index

import (
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/manifest"
)

// stageFormat returns the media types of an index and of an image
// manifest written out of local storage in format: FormatOCI ("" too)
// or FormatV2S2. Images built in Docker format keep their Docker configs
// (HEALTHCHECK, SHELL, ONBUILD) only when staged as FormatV2S2: a
// conversion to OCI drops what the OCI config has no field for.
func stageFormat(format string) (list, image string, err error) {
	if list, err = listType(format); err != nil {
		return "", "", err
	}
	if list == manifest.DockerV2ListMediaType {
		return list, manifest.DockerV2Schema2MediaType, nil
	}
	return list, specs.MediaTypeImageManifest, nil
}
