package index

import (
	"context"
	"sync"

	"go.podman.io/image/v5/types"
)

// handoffRef is a source reference whose first NewImageSource returns a
// source that is already open (and has already read the top manifest:
// the docker transport keeps it), handing it over to the caller, who
// closes it. Later calls (a retry) open a new source. Copy plans with one
// source and copies from it: a registry is pinged and asked for the
// top-level manifest once, not once per phase. The source is returned as
// it is, not wrapped, so containers/image keeps every feature of the
// transport's source (signature formats, partial reads).
type handoffRef struct {
	types.ImageReference
	mu   sync.Mutex
	open types.ImageSource
}

// handOff returns the reference the copy reads src through, with the
// source plan read handed over, and what closes that source if the copy
// never took it. Local storage references stay as they are: the copy
// looks their images up by reference type (and they cost no request).
func handOff(src types.ImageReference, plan *copyPlan) (types.ImageReference, func()) {
	if isStorage(src) {
		_ = plan.src.Close()
		return src, func() {}
	}
	r := &handoffRef{ImageReference: src, open: plan.src}
	return r, r.closeUnused
}

// NewImageSource returns the open source once, then new ones.
func (r *handoffRef) NewImageSource(ctx context.Context, sys *types.SystemContext) (types.ImageSource, error) {
	r.mu.Lock()
	src := r.open
	r.open = nil
	r.mu.Unlock()
	if src != nil {
		return src, nil
	}
	return r.ImageReference.NewImageSource(ctx, sys)
}

// closeUnused closes the open source if nobody took it.
func (r *handoffRef) closeUnused() {
	r.mu.Lock()
	src := r.open
	r.open = nil
	r.mu.Unlock()
	if src != nil {
		_ = src.Close()
	}
}
