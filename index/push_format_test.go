package index

import (
	"testing"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/common/libimage/manifests"
	"go.podman.io/image/v5/manifest"
)

// TestListFormat checks the format an index in local storage keeps by
// default: Docker only when every image is a Docker schema 2 manifest.
func TestListFormat(t *testing.T) {
	for _, tc := range []struct {
		name  string
		types []string
		want  string
	}{
		{"empty", nil, FormatOCI},
		{"docker", []string{manifest.DockerV2Schema2MediaType, manifest.DockerV2Schema2MediaType}, FormatV2S2},
		{"oci", []string{specs.MediaTypeImageManifest}, FormatOCI},
		{"mixed", []string{manifest.DockerV2Schema2MediaType, specs.MediaTypeImageManifest}, FormatOCI},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := manifests.Create()
			for i, mt := range tc.types {
				d := digest.FromString(tc.name + string(rune('a'+i)))
				if err := list.AddInstance(d, 100, mt, "linux", "amd64", "", nil, "", nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			if got := listFormat(list); got != tc.want {
				t.Errorf("listFormat of %v = %q, want %q", tc.types, got, tc.want)
			}
		})
	}
}
