package index

import (
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/manifest"
)

// TestStageFormat checks the media types staged for each format.
func TestStageFormat(t *testing.T) {
	for _, tc := range []struct {
		format, list, image string
		bad                 bool
	}{
		{format: "", list: specs.MediaTypeImageIndex, image: specs.MediaTypeImageManifest},
		{format: FormatOCI, list: specs.MediaTypeImageIndex, image: specs.MediaTypeImageManifest},
		{format: FormatV2S2, list: manifest.DockerV2ListMediaType, image: manifest.DockerV2Schema2MediaType},
		{format: "docker", bad: true},
	} {
		list, image, err := stageFormat(tc.format)
		if tc.bad != (err != nil) || list != tc.list || image != tc.image {
			t.Errorf("stageFormat(%q) = %q, %q, %v", tc.format, list, image, err)
		}
	}
}
