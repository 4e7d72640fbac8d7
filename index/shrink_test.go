package index

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestDroppedPlatforms checks which published platforms a new index
// drops, compared normalised.
func TestDroppedPlatforms(t *testing.T) {
	amd64 := specs.Platform{OS: "linux", Architecture: "amd64"}
	arm64 := specs.Platform{OS: "linux", Architecture: "arm64"}
	arm64v8 := specs.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	s390x := specs.Platform{OS: "linux", Architecture: "s390x"}
	for _, tc := range []struct {
		name            string
		published, next []specs.Platform
		want            []string
	}{
		{"same", []specs.Platform{amd64, arm64}, []specs.Platform{arm64, amd64}, nil},
		{"grows", []specs.Platform{amd64}, []specs.Platform{amd64, s390x}, nil},
		{"variant spelling", []specs.Platform{arm64v8}, []specs.Platform{arm64}, nil},
		{"drops two", []specs.Platform{amd64, arm64, s390x}, []specs.Platform{amd64}, []string{"linux/arm64", "linux/s390x"}},
		{"nothing published", nil, []specs.Platform{amd64}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := droppedPlatforms(tc.published, tc.next); !slices.Equal(got, tc.want) {
				t.Errorf("dropped %v, want %v", got, tc.want)
			}
		})
	}
}
