package check

import (
	"encoding/json"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
)

// Kinds of index entries.
const (
	// KindImage is an image for a usable platform; it is verified.
	KindImage = "image"
	// KindAttestation is an attestation or other manifest annotated with
	// vnd.docker.reference.type: not an image, and not a problem.
	KindAttestation = "attestation"
	// KindInvalid is an entry consumers would mistake for an image: no
	// platform, unknown/unknown, or a nested index polyarch does not read.
	KindInvalid = "invalid"
)

// Media types of indexes: OCI's and Docker's manifest list.
const (
	mediaTypeDockerList = "application/vnd.docker.distribution.manifest.list.v2+json"
	referenceType       = "vnd.docker.reference.type"
)

// Entry is one classified index entry.
type Entry struct {
	Index     int           `json:"index"`
	Kind      string        `json:"kind"`
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	// Platform is the entry's platform, "unknown" without one.
	Platform string `json:"platform"`
	// Reason says why the entry is invalid, or what an attestation refers to.
	Reason string `json:"reason,omitempty"`
	// Declared is the entry's platform as the index states it.
	Declared *specs.Platform `json:"-"`
}

// IsIndex reports whether mediaType is an OCI index or Docker manifest list.
func IsIndex(mediaType string) bool {
	return mediaType == specs.MediaTypeImageIndex || mediaType == mediaTypeDockerList
}

// DecodeIndex decodes an OCI index or Docker manifest list and classifies
// its entries, in order. The media type is the manifest's own when it
// names one, else mediaType's; an error says what is malformed.
func DecodeIndex(raw []byte, mediaType string) ([]Entry, error) {
	var idx specs.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("parsing index: %w", err)
	}
	if idx.SchemaVersion != 2 {
		return nil, fmt.Errorf("parsing index: schemaVersion %d, want 2", idx.SchemaVersion)
	}
	if idx.MediaType != "" && mediaType != "" && idx.MediaType != mediaType {
		return nil, fmt.Errorf("parsing index: it says it is %q, its source says %q", idx.MediaType, mediaType)
	}
	entries := make([]Entry, 0, len(idx.Manifests))
	for i, d := range idx.Manifests {
		if err := d.Digest.Validate(); err != nil {
			return nil, fmt.Errorf("parsing index: entry %d: %w", i, err)
		}
		entries = append(entries, classify(i, d))
	}
	return entries, nil
}

// classify sorts the i-th entry d of an index.
func classify(i int, d specs.Descriptor) Entry {
	e := Entry{Index: i, Kind: KindImage, Digest: d.Digest, MediaType: d.MediaType, Platform: "unknown", Declared: d.Platform}
	if d.Platform != nil {
		e.Platform = emulation.FormatPlatform(*d.Platform)
	}
	switch p := d.Platform; {
	case d.Annotations[referenceType] != "":
		e.Kind = KindAttestation
		e.Reason = fmt.Sprintf("%s for %s", d.Annotations[referenceType], d.Annotations["vnd.docker.reference.digest"])
	case p == nil:
		e.Kind, e.Reason = KindInvalid, "entry has no platform: consumers would take it for an image of any platform"
	case p.OS == "" || p.Architecture == "" || p.OS == "unknown" || p.Architecture == "unknown":
		e.Kind, e.Reason = KindInvalid, fmt.Sprintf("entry platform %q is no platform, and it is not annotated as an attestation", e.Platform)
	case IsIndex(d.MediaType):
		e.Kind, e.Reason = KindInvalid, "a nested index: polyarch verifies one level of index"
	}
	return e
}
