package builder

import (
	"context"
	"fmt"
	"io"

	"github.com/polyarch/polyarch/index"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// Build builds the Containerfile for every platform in o.Platforms and
// stores one OCI image index holding the platform images in request order.
// Nothing is published unless every platform succeeds: the index is
// written to each output first, and only then tagged in local storage, so
// a failure leaves existing tags and output paths as they were.
func Build(ctx context.Context, o Options) (*Result, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	tags, err := index.NormalizeNames(o.Tags)
	if err != nil {
		return nil, err
	}
	store, err := openStore(o.Store, o.Stderr)
	if err != nil {
		return nil, err
	}
	defer func() { _, _ = store.Shutdown(false) }()
	sys, err := systemContext(&o, store)
	if err != nil {
		return nil, err
	}
	p, err := preflight(ctx, &o, store, sys)
	if err != nil {
		return nil, err
	}
	if err := prepareEmulation(ctx, o.Emulation, p.Emulators, o.Stderr); err != nil {
		return nil, err
	}
	images, err := buildPlatforms(ctx, &o, store, sys)
	if err != nil {
		return nil, err
	}
	return publish(ctx, &o, store, sys, images, tags)
}

// publish assembles the index, writes every output and finally tags it.
func publish(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, images []PlatformImage, tags []string) (*Result, error) {
	instances := make([]index.Instance, len(images))
	for i, img := range images {
		instances[i] = index.Instance{ImageID: img.ImageID, Platform: img.Platform}
	}
	assembled, err := index.Assemble(ctx, store, sys, instances)
	if err != nil {
		return nil, err
	}
	for i := range images {
		images[i].Digest = assembled.Manifests[i].String()
	}
	refName := "latest"
	if len(tags) > 0 {
		refName = index.TagOf(tags[0])
	}
	if err := writeOutputs(ctx, o, store, sys, assembled.ID, refName, tags); err != nil {
		_ = index.Discard(store, assembled.ID)
		return nil, err
	}
	if err := index.Tag(store, assembled.ID, tags); err != nil {
		_ = index.Discard(store, assembled.ID)
		return nil, err
	}
	return &Result{IndexID: assembled.ID, IndexDigest: assembled.Digest.String(), Images: images}, nil
}

// writeOutputs writes the index to every OCI output, then pushes it to
// every tag's registry if asked.
func writeOutputs(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, id, refName string, tags []string) error {
	for _, out := range o.Outputs {
		if out.Type == OutputRegistry {
			continue
		}
		err := index.Export(ctx, store, sys, id, index.ExportOptions{
			Archive: out.Type == OutputOCIArchive, Dest: out.Dest, RefName: refName, ReportWriter: reportWriter(o),
		})
		if err != nil {
			return err
		}
	}
	if !o.HasOutput(OutputRegistry) {
		return nil
	}
	for _, tag := range tags {
		dest, err := alltransports.ParseImageName("docker://" + tag)
		if err != nil {
			return fmt.Errorf("pushing to %s: %w", tag, err)
		}
		if _, err := index.PushStored(ctx, store, sys, id, dest, index.PushStoredOptions{ReportWriter: reportWriter(o), Retry: o.Retry}); err != nil {
			return err
		}
	}
	return nil
}

// reportWriter returns where copy progress goes.
func reportWriter(o *Options) io.Writer {
	if o.Quiet || o.Stderr == nil {
		return nil
	}
	return o.Stderr
}

// errorf formats a build error for a platform.
func platformError(p string, err error) error {
	return fmt.Errorf("[%s] %w", p, err)
}
