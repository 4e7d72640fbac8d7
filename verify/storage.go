package verify

import (
	"context"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
)

// instanceSource returns the source and instance to read the image of
// index entry d from: src itself, or, for an index in local storage, the
// image of its own that holds d there (containers-storage does not keep
// the entries' manifests with the index). Call the returned close when done.
func instanceSource(ctx context.Context, sys *types.SystemContext, ref types.ImageReference, src types.ImageSource, d digest.Digest) (types.ImageSource, *digest.Digest, func(), error) {
	st, ok := ref.Transport().(is.StoreTransport)
	if !ok || ref.Transport().Name() != is.Transport.Name() || st.GetStoreIfSet() == nil {
		return src, &d, func() {}, nil
	}
	store := st.GetStoreIfSet()
	imgs, err := store.ImagesByDigest(d)
	if err != nil || len(imgs) == 0 {
		return nil, nil, nil, fmt.Errorf("local storage holds no image with digest %s (%v)", d, err)
	}
	child, err := is.Transport.NewStoreReference(store, nil, imgs[0].ID)
	if err != nil {
		return nil, nil, nil, err
	}
	childSrc, err := child.NewImageSource(ctx, sys)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("opening image %s in local storage: %w", imgs[0].ID, err)
	}
	return childSrc, nil, func() { _ = childSrc.Close() }, nil
}
