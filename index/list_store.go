package index

import (
	"path/filepath"

	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// StoreSystemContext returns SystemContext(reg) with its signature policy
// fallback under the store's run root and the blob-info cache in the
// store, as builds use.
func StoreSystemContext(store storage.Store, reg RegistryOptions) (*types.SystemContext, error) {
	sys, err := SystemContext(reg, store.RunRoot())
	if err != nil {
		return nil, err
	}
	sys.BlobInfoCacheDir = filepath.Join(store.GraphRoot(), "cache")
	return sys, nil
}
