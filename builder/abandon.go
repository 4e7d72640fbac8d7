package builder

import (
	"context"
	"fmt"
	"time"

	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// abandonGrace is how long a cancelled build gets to stop before Build
// returns without it. It outlasts the stopping of RUN processes (SIGTERM,
// SIGKILL after killGrace, then their exit), so a build that honours its
// context is never abandoned.
const abandonGrace = 10 * time.Second

// buildPlatformsOrAbandon runs buildPlatforms and returns its result; once
// ctx ends it waits at most abandonGrace more. buildah does not honour
// cancellation in every wait (an ADD from a server that never answers
// blocks for ever), and SIGTERM must end polyarch within seconds: Build
// then removes what the abandoned build left in the store (see
// cleanup.go), and the rest dies with the process.
func buildPlatformsOrAbandon(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext) ([]PlatformImage, error) {
	type result struct {
		images []PlatformImage
		err    error
	}
	done := make(chan result, 1)
	go func() {
		images, err := buildPlatforms(ctx, o, store, sys)
		done <- result{images, err}
	}()
	select {
	case r := <-done:
		return r.images, r.err
	case <-ctx.Done():
	}
	select {
	case r := <-done:
		return r.images, r.err
	case <-time.After(abandonGrace):
		return nil, fmt.Errorf("build interrupted, nothing was published: %w; a step did not stop within %s and was abandoned", ctx.Err(), abandonGrace)
	}
}
