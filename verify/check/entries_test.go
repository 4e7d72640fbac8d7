package check

import (
	"strings"
	"testing"
)

// TestDecodeIndex classifies the entries of indexes, and rejects
// malformed ones naming what is wrong.
func TestDecodeIndex(t *testing.T) {
	const d = `"sha256:d0077c36759663ec6118aa6b12697c69f056c70e96c24780f6f6144869f39f5a"`
	tests := []struct {
		name, raw, mime string
		kinds           []string
		err             string
	}{
		{"image and attestation", `{"schemaVersion":2,"manifests":[{"digest":` + d + `,"platform":{"os":"linux","architecture":"amd64"}},{"digest":` + d + `,"platform":{"os":"unknown","architecture":"unknown"},"annotations":{"vnd.docker.reference.type":"attestation-manifest"}}]}`, "", []string{KindImage, KindAttestation}, ""},
		{"no platform", `{"schemaVersion":2,"manifests":[{"digest":` + d + `}]}`, "", []string{KindInvalid}, ""},
		{"unknown without annotation", `{"schemaVersion":2,"manifests":[{"digest":` + d + `,"platform":{"os":"unknown","architecture":"unknown"}}]}`, "", []string{KindInvalid}, ""},
		{"nested index", `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":` + d + `,"platform":{"os":"linux","architecture":"arm64"}}]}`, "", []string{KindInvalid}, ""},
		{"bad digest", `{"schemaVersion":2,"manifests":[{"digest":"sha256:xyz"}]}`, "", nil, "entry 0"},
		{"schema 1", `{"schemaVersion":1}`, "", nil, "schemaVersion 1"},
		{"media type disagrees", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`, mediaTypeDockerList, nil, "its source says"},
		{"not JSON", `{`, "", nil, "parsing index"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := DecodeIndex([]byte(tc.raw), tc.mime)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, e := range entries {
				kinds = append(kinds, e.Kind)
			}
			if len(kinds) != len(tc.kinds) {
				t.Fatalf("kinds %v, want %v", kinds, tc.kinds)
			}
			for i := range kinds {
				if kinds[i] != tc.kinds[i] {
					t.Errorf("kinds %v, want %v", kinds, tc.kinds)
				}
			}
		})
	}
}

// FuzzDecodeIndex checks that decoding any index never panics,
// and that every decoded entry is classified with a valid digest.
func FuzzDecodeIndex(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:d0077c36759663ec6118aa6b12697c69f056c70e96c24780f6f6144869f39f5a","size":1,"platform":{"os":"linux","architecture":"amd64"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:57eda10b678f4161da623904f35827b261cda5d94f734361d2dfcac7090b956c","size":1,"platform":{"os":"unknown","architecture":"unknown"},"annotations":{"vnd.docker.reference.type":"attestation-manifest"}}]}`), "application/vnd.oci.image.index.v1+json")
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:d0077c36759663ec6118aa6b12697c69f056c70e96c24780f6f6144869f39f5a","size":1}]}`), "application/vnd.docker.distribution.manifest.list.v2+json")
	f.Add([]byte(`{"schemaVersion":2,"manifests":[{"digest":"sha256:d0077c36759663ec6118aa6b12697c69f056c70e96c24780f6f6144869f39f5a"},{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:d0077c36759663ec6118aa6b12697c69f056c70e96c24780f6f6144869f39f5a","platform":{"os":"linux","architecture":"arm64"}}]}`), "")
	f.Fuzz(func(t *testing.T, raw []byte, mime string) {
		entries, err := DecodeIndex(raw, mime)
		if err != nil {
			return
		}
		for i, e := range entries {
			if e.Index != i || e.Digest.Validate() != nil {
				t.Errorf("entry %d: index %d, digest %q", i, e.Index, e.Digest)
			}
			switch e.Kind {
			case KindImage:
				if e.Declared == nil || e.Platform == "unknown" {
					t.Errorf("entry %d without a platform classified as an image", i)
				}
			case KindAttestation, KindInvalid:
				if e.Reason == "" {
					t.Errorf("entry %d of kind %s has no reason", i, e.Kind)
				}
			default:
				t.Errorf("entry %d: unknown kind %q", i, e.Kind)
			}
		}
	})
}
