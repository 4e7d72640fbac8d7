package builder

import (
	"fmt"
	"io"

	"github.com/polyarch/polyarch/index"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/storage"
)

// A rebuild moves its tags from the previous index to the new one. The
// previous index, left without a name, is no layer cache (it has no
// layers, and no build reuses it): it would stay as a <none> image until
// pruned. replacedIndexes finds the indexes the tags name before they
// move; dropReplaced removes those left without a name afterwards. Their
// platform images stay: they are the cache of the build's last steps.

// replacedIndexes returns the IDs of the indexes that hold any of names,
// other than keep.
func replacedIndexes(store storage.Store, names []string, keep string) []string {
	var ids []string
	for _, n := range names {
		img, err := store.Image(n)
		if err != nil || img.ID == keep || !isStoredIndex(store, img.ID) {
			continue
		}
		ids = append(ids, img.ID)
	}
	return ids
}

// dropReplaced removes the indexes of ids that no longer have a name,
// warning on w about any it could not remove.
func dropReplaced(store storage.Store, ids []string, w io.Writer) {
	for _, id := range ids {
		img, err := store.Image(id)
		if err != nil || len(img.Names) > 0 {
			continue
		}
		if err := index.Discard(store, id); err != nil && w != nil {
			fmt.Fprintf(w, "warning: %v (polyarch prune removes it)\n", err)
		}
	}
}

// isStoredIndex says whether the stored image id is an index: an image
// without layers whose manifest is a list.
func isStoredIndex(store storage.Store, id string) bool {
	img, err := store.Image(id)
	if err != nil || img.TopLayer != "" {
		return false
	}
	raw, err := store.ImageBigData(id, storage.ImageDigestBigDataKey)
	return err == nil && manifest.MIMETypeIsMultiImage(manifest.GuessMIMEType(raw))
}
