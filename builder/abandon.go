package builder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	"golang.org/x/sys/unix"
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
func buildPlatformsOrAbandon(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, built func(i int, id string)) ([]PlatformImage, []error, error) {
	type result struct {
		images   []PlatformImage
		failures []error
		err      error
	}
	done := make(chan result, 1)
	go func() {
		images, failures, err := buildPlatforms(ctx, o, store, sys, built)
		done <- result{images, failures, err}
	}()
	select {
	case r := <-done:
		return r.images, r.failures, r.err
	case <-ctx.Done():
	}
	select {
	case r := <-done:
		return r.images, r.failures, r.err
	case <-time.After(abandonGrace):
		err := fmt.Errorf("build interrupted, nothing was published: %w; a step did not stop within %s and was abandoned", ctx.Err(), abandonGrace)
		if rerr := releaseContextMounts(o.ContextDir); rerr != nil {
			err = fmt.Errorf("%w\n%v", err, rerr)
		}
		return nil, nil, err
	}
}

// releaseContextMounts unmounts and removes the overlays buildah mounted
// over the build context (TMPDIR/buildah-context-*/overlay/N/merge, lower
// directory contextDir), which the abandoned build would have removed at
// its end: outside a private mount namespace they would outlive polyarch.
func releaseContextMounts(contextDir string) error {
	abs, err := filepath.Abs(contextDir)
	if err != nil {
		return err
	}
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("reading /proc/self/mountinfo: %w", err)
	}
	var errs []error
	for _, line := range strings.Split(string(info), "\n") {
		point, ok := contextOverlay(line, abs)
		if !ok {
			continue
		}
		if err := unix.Unmount(point, unix.MNT_DETACH); err != nil {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", point, err))
			continue
		}
		dir, _, _ := strings.Cut(point, "/overlay/")
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// contextOverlay returns the mount point of a mountinfo line when it is
// buildah's overlay over the build context contextDir.
func contextOverlay(line, contextDir string) (string, bool) {
	fields := strings.Fields(line)
	sep := slices.Index(fields, "-")
	if len(fields) < 5 || sep < 0 || len(fields) < sep+4 || fields[sep+1] != "overlay" {
		return "", false
	}
	point := fields[4]
	if !strings.Contains(filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(point)))), "buildah-context-") {
		return "", false
	}
	for _, opt := range strings.Split(fields[sep+3], ",") {
		if opt == "lowerdir="+contextDir {
			return point, true
		}
	}
	return "", false
}
