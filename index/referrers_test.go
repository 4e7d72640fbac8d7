package index

import (
	"encoding/json"
	"testing"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestReferrerManifest(t *testing.T) {
	subject := specs.Descriptor{MediaType: specs.MediaTypeImageManifest, Digest: digest.FromString("child"), Size: 5}
	r := Referrer{Subject: subject, ArtifactType: MediaTypeInToto, Payload: []byte(`{"_type":"x"}`),
		Annotations: map[string]string{AnnotationPredicateType: "https://slsa.dev/provenance/v1"}}
	desc, raw, err := r.Descriptor()
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.Manifest()
	if err != nil || string(again) != string(raw) {
		t.Fatalf("the manifest is not a function of the referrer: %s vs %s (%v)", again, raw, err)
	}
	var m specs.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"schemaVersion", m.SchemaVersion, 2},
		{"mediaType", m.MediaType, specs.MediaTypeImageManifest},
		{"artifactType", m.ArtifactType, MediaTypeInToto},
		{"config", m.Config.Digest, specs.DescriptorEmptyJSON.Digest},
		{"config media type", m.Config.MediaType, "application/vnd.oci.empty.v1+json"},
		{"layers", len(m.Layers), 1},
		{"layer media type", m.Layers[0].MediaType, MediaTypeInToto},
		{"layer digest", m.Layers[0].Digest, digest.FromBytes(r.Payload)},
		{"subject", m.Subject.Digest, subject.Digest},
		{"predicate annotation", m.Annotations[AnnotationPredicateType], "https://slsa.dev/provenance/v1"},
		{"descriptor digest", desc.Digest, digest.FromBytes(raw)},
		{"descriptor artifactType", desc.ArtifactType, MediaTypeInToto},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestReferrersTag(t *testing.T) {
	for _, c := range []struct {
		in   digest.Digest
		want string
	}{
		{digest.FromString("a"), "sha256-" + digest.FromString("a").Encoded()},
		{digest.SHA512.FromString("b"), "sha512-" + digest.SHA512.FromString("b").Encoded()},
	} {
		if got := ReferrersTag(c.in); got != c.want {
			t.Errorf("ReferrersTag(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}
