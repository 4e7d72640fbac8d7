package index

import (
	"errors"
	"testing"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestCheckDescriptor checks which descriptor and document pairs pass.
func TestCheckDescriptor(t *testing.T) {
	manifestDoc := []byte(`{"schemaVersion":2,"mediaType":"` + v1.MediaTypeImageManifest + `"}`)
	for _, tc := range []struct {
		name, described string
		raw             []byte
		mismatch        bool
	}{
		{"same type", v1.MediaTypeImageManifest, manifestDoc, false},
		{"manifest described as index", v1.MediaTypeImageIndex, manifestDoc, true},
		{"document without mediaType", v1.MediaTypeImageIndex, []byte(`{"schemaVersion":2}`), false},
		{"descriptor without mediaType", "", manifestDoc, false},
		{"not JSON", v1.MediaTypeImageIndex, []byte("garbage"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkDescriptor("oci:x:y", digest.FromBytes(tc.raw), tc.described, tc.raw)
			var mm *MediaTypeMismatchError
			if errors.As(err, &mm) != tc.mismatch {
				t.Errorf("checkDescriptor(%q) = %v, want a mismatch: %v", tc.described, err, tc.mismatch)
			}
		})
	}
}
