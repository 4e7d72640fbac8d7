package builder

import (
	"context"
	"fmt"

	"github.com/polyarch/polyarch/index"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// publish makes the result visible, in an order that keeps every
// destination as it was if anything fails before the end: several
// platforms are assembled into an untagged index (one platform is
// published as a plain image, as podman build does); every OCI output is
// staged next to its destination (after --verify checked the result); every blob and child manifest is pushed
// to every tag's registry; then the registry tags are written, the staged
// outputs renamed into place, and the local tags moved last.
func publish(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, images []PlatformImage, tags []string, early *earlyStager) (*Result, error) {
	assembled := timed("assemble", timingAll)
	res, err := assemble(ctx, store, sys, images, len(o.Platforms) > 1, o.manifestFormat())
	assembled()
	if err != nil {
		return nil, err
	}
	if err := annotateIndex(store, res, o.Metadata.IndexAnnotations); err != nil {
		_ = index.Discard(store, res.IndexID)
		return nil, err
	}
	discard := func() {
		if res.IndexID != "" {
			_ = index.Discard(store, res.IndexID)
		}
	}
	if err := verifyResult(ctx, o, store, sys, res, tags); err != nil {
		discard()
		return nil, err
	}
	if err := writeOutputs(ctx, o, store, sys, res, tags, early); err != nil {
		discard()
		return nil, err
	}
	replaced := replacedIndexes(store, tags, res.ID)
	if err := index.Tag(store, res.ID, tags); err != nil {
		discard()
		return nil, err
	}
	dropReplaced(store, replaced, o.Stderr)
	return res, nil
}

// assemble stores the index of several platforms, untagged; a single
// platform's image is the result itself, unless asIndex (several were
// requested and --keep-going kept one). The index is of format (see
// index.AssembleAs), the images' own.
func assemble(ctx context.Context, store storage.Store, sys *types.SystemContext, images []PlatformImage, asIndex bool, format string) (*Result, error) {
	if len(images) == 1 && !asIndex {
		d, err := index.StoredDigest(store, images[0].ImageID)
		if err != nil {
			return nil, err
		}
		images[0].Digest = d.String()
		return &Result{ID: images[0].ImageID, Digest: d.String(), Images: images}, nil
	}
	instances := make([]index.Instance, len(images))
	for i, img := range images {
		instances[i] = index.Instance{ImageID: img.ImageID, Platform: img.Platform}
	}
	assembled, err := index.AssembleAs(ctx, store, sys, instances, format)
	if err != nil {
		return nil, err
	}
	for i := range images {
		images[i].Digest = assembled.Manifests[i].String()
	}
	return &Result{ID: assembled.ID, Digest: assembled.Digest.String(), IndexID: assembled.ID, IndexDigest: assembled.Digest.String(), Images: images}, nil
}

// writeOutputs stages the result once, next to the store, compressing its
// layers; stages every OCI output from it and pushes every tag's content
// from it; then writes the registry tags and moves the outputs into
// place. Every output and registry gets the same bytes, read out of local
// storage and compressed once; res then reports the digests they hold.
func writeOutputs(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, res *Result, tags []string, early *earlyStager) error {
	if len(o.Outputs) == 0 && o.Fanout.PushByDigest == "" {
		return nil
	}
	sign, closeSigner, err := o.openSigner()
	if err != nil {
		return err
	}
	defer closeSigner()
	staging := timed("staging+compression", timingAll)
	p, err := stageResult(ctx, o, store, sys, res, early, sign)
	staging()
	if err != nil {
		return err
	}
	defer p.Close()
	res.Digest = p.Digest().String()
	if m := p.Manifests(); len(m) == len(res.Images) {
		for i, d := range m {
			res.Images[i].Digest = d.String()
		}
	}
	if res.outputs, err = describeOutputs(ctx, o.Metadata, p); err != nil {
		return err
	}
	if err := attachProvenance(ctx, o, p, res); err != nil {
		return err
	}
	staged, err := stageExports(ctx, o, p, tags, early)
	defer func() {
		for _, st := range staged {
			st.Discard()
		}
	}()
	if err != nil {
		return err
	}
	if err := pushByDigest(ctx, o, p, res); err != nil {
		return err
	}
	if o.HasOutput(OutputRegistry) {
		if err := checkShrink(ctx, o, sys, tags, platformsOf(res.Images)); err != nil {
			return err
		}
		if err := timedErr("push", func() error { return push(ctx, p, tags) }); err != nil {
			return err
		}
	}
	for _, st := range staged {
		if err := st.Commit(ctx); err != nil {
			return err
		}
	}
	return nil
}

// stageExports stages every OCI output; it returns those staged so far
// even on error, for the caller to discard.
func stageExports(ctx context.Context, o *Options, p *index.Staged, tags []string, early *earlyStager) ([]*index.StagedExport, error) {
	if early != nil && len(early.exports) > 0 {
		defer timed("export", timingAll)()
		return early.exports, early.completeExports(ctx, p)
	}
	var staged []*index.StagedExport
	for _, eo := range exportOptions(o, tags) {
		exported := timed("export", timingAll)
		st, err := p.Export(ctx, eo)
		exported()
		if err != nil {
			return staged, err
		}
		staged = append(staged, st)
	}
	return staged, nil
}

// exportOptions lists the OCI outputs (not registries) to write.
func exportOptions(o *Options, tags []string) []index.ExportOptions {
	refName := "latest"
	if len(tags) > 0 {
		refName = index.TagOf(tags[0])
	}
	var out []index.ExportOptions
	for _, output := range o.Outputs {
		if output.Type != OutputRegistry {
			out = append(out, index.ExportOptions{
				Archive: output.Type == OutputOCIArchive, Dest: output.Dest, RefName: refName, ReportWriter: reportWriter(o),
				Referrers: o.Provenance.intoLayouts(),
			})
		}
	}
	return out
}

// push uploads the content to every tag's registry first, then writes the
// tags, so a failing registry leaves every tag as it was.
func push(ctx context.Context, p *index.Staged, tags []string) error {
	dests := make([]types.ImageReference, len(tags))
	for i, tag := range tags {
		var err error
		if dests[i], err = alltransports.ParseImageName("docker://" + tag); err != nil {
			return fmt.Errorf("pushing to %s: %w", tag, err)
		}
		if err := p.PushContent(ctx, dests[i]); err != nil {
			return err
		}
	}
	for _, dest := range dests {
		if _, err := p.PushTag(ctx, dest); err != nil {
			return err
		}
	}
	return nil
}
