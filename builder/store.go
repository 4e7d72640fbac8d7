package builder

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/polyarch/polyarch/index"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	storagetypes "go.podman.io/storage/types"
)

// storeEnv carries the parent's resolved store options into polyarch's
// own user namespace, where the defaults would differ.
const storeEnv = "_POLYARCH_STORE"

// ResolveStoreOptions returns the store options podman would use for the
// current user (storage.conf included), overridden by o.
func ResolveStoreOptions(o StoreOptions) (storagetypes.StoreOptions, error) {
	if v := os.Getenv(storeEnv); v != "" {
		var opts storagetypes.StoreOptions
		if err := json.Unmarshal([]byte(v), &opts); err != nil {
			return opts, fmt.Errorf("decoding %s: %w", storeEnv, err)
		}
		return opts, nil
	}
	opts, err := storage.DefaultStoreOptions()
	if err != nil {
		return opts, fmt.Errorf("reading storage configuration: %w", err)
	}
	if o.Root != "" {
		opts.GraphRoot = o.Root
	}
	if o.RunRoot != "" {
		opts.RunRoot = o.RunRoot
	}
	if o.Driver != "" {
		if o.Driver != opts.GraphDriverName {
			opts.GraphDriverOptions = nil
		}
		opts.GraphDriverName = o.Driver
	}
	return opts, nil
}

// openStore opens local containers-storage and makes the storage
// transport use it; warnings go to warn.
func openStore(o StoreOptions, warn io.Writer) (storage.Store, error) {
	opts, err := ResolveStoreOptions(o)
	if err != nil {
		return nil, err
	}
	adaptToSingleMapping(&opts, warn)
	return index.OpenStore(opts)
}

// systemContext returns a self-contained SystemContext for pulls and
// pushes, with a signature policy file under the store's run root.
func systemContext(o *Options, store storage.Store) (*types.SystemContext, error) {
	return index.StoreSystemContext(store, o.Registry)
}

// encodeStoreEnv serialises resolved store options for storeEnv.
func encodeStoreEnv(opts storagetypes.StoreOptions) (string, error) {
	b, err := json.Marshal(opts)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
