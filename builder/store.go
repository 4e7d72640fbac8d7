package builder

import (
	"io"

	"github.com/polyarch/polyarch/index"
	"github.com/polyarch/polyarch/session"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// openStore opens local containers-storage as the session resolves it
// and makes the storage transport use it; warnings go to warn.
func openStore(o session.StoreOptions, warn io.Writer) (storage.Store, error) {
	c, err := session.ResolveStore(o)
	if err != nil {
		return nil, err
	}
	return session.OpenStore(c, warn)
}

// systemContext returns a self-contained SystemContext for pulls and
// pushes, with a signature policy file under the store's run root.
func systemContext(o *Options, store storage.Store) (*types.SystemContext, error) {
	return index.StoreSystemContext(store, o.Registry)
}
