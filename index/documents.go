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
// one); registries check what they store when it is pushed. In every
// source but local storage, manifests and the configs they name must be
// at most MaxDocumentSize: every entry's size is checked before any
// manifest is read; the manifests are read a few at a time.
// The entries are read from src, an image source of ref.
func checkDocuments(ctx context.Context, ref types.ImageReference, src types.ImageSource, in *Inspection) error {
	if isStorage(ref) {
		return nil
	}
	if !manifest.MIMETypeIsMultiImage(in.MediaType) {
		return nil // Inspect checked it
	}
	for _, e := range in.Manifests {
		if e.Size > MaxDocumentSize {
			return &TooLargeError{Image: in.Name, What: "manifest", Digest: e.Digest, Size: e.Size}
		}
	}
	return eachInParallel(len(in.Manifests), manifestReads, func(i int) error {
		e := in.Manifests[i]
		d := e.Digest
		raw, mime, err := src.GetManifest(ctx, &d)
		if err != nil {
			return fmt.Errorf("reading manifest %s of %s: %w", d, in.Name, err)
		}
		if isLayout(ref) {
			if err := checkDescriptor(in.Name, d, e.MediaType, raw); err != nil {
				return err
			}
		}
		return checkSizes(in.Name, d, raw, mime)
	})
}

// MaxDocumentSize is the largest manifest or config polyarch reads: 4
// MiB, the limit containers/image applies to registries' answers.
const MaxDocumentSize = 4 << 20

// TooLargeError is a manifest or config over MaxDocumentSize.
type TooLargeError struct {
	// Image is the source; What is "manifest" or "config".
	Image, What string
	Digest      digest.Digest
	Size        int64
}

// Error names the document, its digest and its size.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: %s %s is %d bytes, over the %d MiB limit for manifests and configs: refusing it (an image this large is broken or hostile)",
		e.Image, e.What, e.Digest, e.Size, MaxDocumentSize>>20)
}

// checkSizes checks the size of the manifest raw and, for an image
// manifest, of the config it names.
func checkSizes(image string, d digest.Digest, raw []byte, mime string) error {
	if len(raw) > MaxDocumentSize {
		return &TooLargeError{Image: image, What: "manifest", Digest: d, Size: int64(len(raw))}
	}
	if manifest.MIMETypeIsMultiImage(mime) {
		return nil
	}
	m, err := manifest.FromBlob(raw, mime)
	if err != nil {
		return nil // left to the copy, which reports it with context
	}
	if c := m.ConfigInfo(); c.Size > MaxDocumentSize {
		return &TooLargeError{Image: image, What: "config", Digest: c.Digest, Size: c.Size}
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
