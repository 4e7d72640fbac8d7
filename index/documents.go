package index

import (
	"context"
	"encoding/json"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/types"
)

// A descriptor says what the document it points at is; containers/image
// believes the descriptor of a layout's index.json and would copy an
// image manifest described as an index as an (empty) index. polyarch
// refuses a document whose own mediaType differs from its descriptor's.

// MediaTypeMismatchError is a descriptor whose mediaType is not the one
// the document it points at declares.
type MediaTypeMismatchError struct {
	// Image is the source, Digest the descriptor's digest.
	Image  string
	Digest digest.Digest
	// Descriptor is the descriptor's mediaType, Document the document's.
	Descriptor, Document string
}

// Error names the image, the digest and both media types.
func (e *MediaTypeMismatchError) Error() string {
	return fmt.Sprintf("%s: descriptor %s says mediaType %s, but the document it points at says %s: "+
		"refusing to copy a document as what it is not (correct that descriptor's mediaType)", e.Image, e.Digest, e.Descriptor, e.Document)
}

// declaredType returns the mediaType field of a manifest or index, "" if
// it has none (Docker schema 1) or is not JSON (left to the parsers).
func declaredType(raw []byte) string {
	var doc struct {
		MediaType string `json:"mediaType"`
	}
	if json.Unmarshal(raw, &doc) != nil {
		return ""
	}
	return doc.MediaType
}

// checkDescriptor returns a MediaTypeMismatchError if raw declares a
// media type other than described (when both are known).
func checkDescriptor(image string, d digest.Digest, described string, raw []byte) error {
	own := declaredType(raw)
	if own == "" || described == "" || own == described {
		return nil
	}
	return &MediaTypeMismatchError{Image: image, Digest: d, Descriptor: described, Document: own}
}

// checkDocuments checks each entry of an index in an OCI layout or
// archive against the manifest it points at (Inspect checks the top
// one). Registries check what they store when it is pushed.
func checkDocuments(ctx context.Context, ref types.ImageReference, sys *types.SystemContext, in *Inspection) error {
	if !isLayout(ref) || !manifest.MIMETypeIsMultiImage(in.MediaType) {
		return nil
	}
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return fmt.Errorf("reading %s: %w", in.Name, err)
	}
	defer src.Close()
	for _, e := range in.Manifests {
		d := e.Digest
		raw, _, err := src.GetManifest(ctx, &d)
		if err != nil {
			return fmt.Errorf("reading manifest %s of %s: %w", d, in.Name, err)
		}
		if err := checkDescriptor(in.Name, d, e.MediaType, raw); err != nil {
			return err
		}
	}
	return nil
}

// isLayout reports whether ref is an OCI layout or archive.
func isLayout(ref types.ImageReference) bool {
	switch ref.Transport().Name() {
	case "oci", "oci-archive":
		return true
	}
	return false
}
