package index

import (
	"fmt"
	"path/filepath"

	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	storagetypes "go.podman.io/storage/types"
)

// OpenStore opens local containers-storage with opts (resolve them with
// builder.ResolveStoreOptions) and makes the storage transport use it.
// Call store.Shutdown(false) when done.
func OpenStore(opts storagetypes.StoreOptions) (storage.Store, error) {
	store, err := storage.GetStore(opts)
	if err != nil {
		return nil, fmt.Errorf("opening local storage at %s: %w (pass --root and --runroot to use another)", opts.GraphRoot, err)
	}
	is.Transport.SetStore(store)
	return store, nil
}

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
