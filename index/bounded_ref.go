package index

import (
	"cmp"

	"go.podman.io/image/v5/types"
)

// BoundLayers returns ref as a source whose gzip layers fail with a
// *LayerTooLargeError once they inflate past max bytes (0:
// DefaultMaxLayerSize), as copy into local storage reads its source
// (--max-layer-size). The error names ref, the layer's digest and max.
func BoundLayers(ref types.ImageReference, max int64) types.ImageReference {
	return boundedRef{ImageReference: ref, max: cmp.Or(max, DefaultMaxLayerSize)}
}
