package index

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/types"
)

// Foreign (non-distributable) layers name urls their content comes from.
// polyarch never fetches them unless asked (CopyOptions.
// AllowNondistributable, --allow-nondistributable-artifacts): registries
// and layouts get the manifest with its urls and no blob, as
// containers/image does by default; destinations that need the content
// (local storage, dir:, docker-archive:) are refused before any work.
// When fetched, urls are read without the registry's credentials.

// ForeignLayersError is a copy that would have to fetch foreign layers
// without being allowed to.
type ForeignLayersError struct {
	// Image is the source, Destination the transport that needs the content.
	Image, Destination string
	// Layers lists each foreign layer as "DIGEST from URL".
	Layers []string
}

// Error names the layers, their urls and the flag.
func (e *ForeignLayersError) Error() string {
	return fmt.Sprintf("%s has foreign layers that %s needs the content of: %s; they are never fetched unless asked: "+
		"pass --allow-nondistributable-artifacts to fetch them from those urls, or copy to a registry or an OCI layout, which keep the urls",
		e.Image, e.Destination, strings.Join(e.Layers, ", "))
}

// acceptsForeignURLs reports whether dst stores a manifest whose foreign
// layers stay at their urls, without their content.
func acceptsForeignURLs(dst types.ImageReference) bool {
	switch dst.Transport().Name() {
	case "docker", "oci", "oci-archive":
		return true
	}
	return false
}

// checkForeign fails with a ForeignLayersError if the images keep (all,
// if nil) of src have foreign layers.
func checkForeign(ctx context.Context, src types.ImageReference, sys *types.SystemContext, keep []digest.Digest, dst types.ImageReference) error {
	t, err := openTransfer(ctx, sys, src, keep)
	if err != nil {
		return err
	}
	defer t.close()
	var layers []string
	for _, c := range t.children {
		for _, b := range c.blobs {
			if len(b.URLs) > 0 {
				layers = append(layers, fmt.Sprintf("%s from %s", b.Digest, redactURL(b.URLs[0])))
			}
		}
	}
	if len(layers) == 0 {
		return nil
	}
	return &ForeignLayersError{Image: refName(src), Destination: dst.Transport().Name() + ":", Layers: layers}
}

// redactURL drops the user information of a url for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = url.User("xxxxx")
	return u.String()
}
