package builder

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"github.com/sirupsen/logrus"
	"go.podman.io/image/v5/signature/signer"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// earlyStager overlaps publication with the build: as soon as a platform
// commits, its image is read out of local storage once and compressed
// into its own staging directory (index.Stage), and, for --push and
// --push-by-digest, its blobs and its manifest (by digest, untagged) go
// to every destination registry, while the other platforms still build.
// Nothing is tagged here: publish assembles the index from the staged
// parts (index.StageIndex, no layer read or compressed again) and writes
// every tag, layout index and local name last, only after every platform
// succeeded. A failed build leaves at most untagged blobs and manifests
// in a registry, as buildx does.
type earlyStager struct {
	ctx    context.Context
	cancel context.CancelFunc
	o      *Options
	store  storage.Store
	sys    *types.SystemContext
	dests  []types.ImageReference
	wg     sync.WaitGroup
	mu     sync.Mutex
	pushMu sync.Mutex
	parts  map[string]*index.Staged // by image ID
	errs   []error
	closed bool
	// exports are the OCI outputs, prepared next to their destinations,
	// that each staged platform's blobs are written into.
	exports []*index.StagedExport
	shared  *index.SharedLayers
	start   time.Time
}

// newEarlyStager returns a stager for the outputs of o, or nil when the
// build writes none (local storage only: nothing to stage).
func newEarlyStager(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, tags []string) (*earlyStager, error) {
	if len(o.Outputs) == 0 && o.Fanout.PushByDigest == "" {
		return nil, nil
	}
	var dests []types.ImageReference
	if o.HasOutput(OutputRegistry) {
		for _, tag := range tags {
			ref, err := alltransports.ParseImageName("docker://" + tag)
			if err != nil {
				return nil, fmt.Errorf("pushing to %s: %w", tag, err)
			}
			dests = append(dests, ref)
		}
	}
	if o.Fanout.PushByDigest != "" {
		ref, err := digestTarget(o)
		if err != nil {
			return nil, err
		}
		dests = append(dests, ref)
	}
	var exports []*index.StagedExport
	for _, eo := range exportOptions(o, tags) {
		st, err := index.PrepareExport(eo)
		if err != nil {
			for _, st := range exports {
				st.Discard()
			}
			return nil, err
		}
		exports = append(exports, st)
	}
	cctx, cancel := context.WithCancel(ctx)
	return &earlyStager{exports: exports, ctx: cctx, cancel: cancel, o: o, store: store, sys: sys, dests: dests, parts: map[string]*index.Staged{}, shared: index.NewSharedLayers(), start: time.Now()}, nil
}

// sharedLayers returns the pool through which the stages share layers,
// nil on a nil stager.
func (e *earlyStager) sharedLayers() *index.SharedLayers {
	if e == nil {
		return nil
	}
	return e.shared
}

// built starts staging (and pushing the content of) the image id that
// platform i committed. It is safe on a nil stager.
func (e *earlyStager) built(i int, id string) {
	if e == nil {
		return
	}
	name := emulation.FormatPlatform(e.o.Platforms[i])
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return // an abandoned build committed after Build gave up
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		p, err := e.stage(name, id)
		e.mu.Lock()
		defer e.mu.Unlock()
		if err != nil {
			e.errs = append(e.errs, platformError(name, err))
			e.cancel()
			return
		}
		e.parts[id] = p
	}()
}

// stage stages one platform image and pushes its content.
func (e *earlyStager) stage(name, id string) (*index.Staged, error) {
	t0 := time.Now()
	p, err := index.Stage(e.ctx, e.store, e.sys, id, e.stageOptions())
	if err != nil {
		return nil, err
	}
	logrus.Debugf("timing: phase=early-staging platform=%s elapsed=%s ended=+%s", name, since(t0), since(e.start))
	for _, st := range e.exports {
		t1 := time.Now()
		if err := st.Prefill(p); err != nil {
			p.Close()
			return nil, err
		}
		logrus.Debugf("timing: phase=early-export platform=%s elapsed=%s", name, since(t1))
	}
	// One platform pushes at a time: a layer another platform pushed
	// is then found present (HEAD) instead of being uploaded again.
	e.pushMu.Lock()
	defer e.pushMu.Unlock()
	for _, dest := range e.dests {
		t1 := time.Now()
		if err := p.PushContent(e.ctx, dest); err != nil {
			p.Close()
			return nil, err
		}
		logrus.Debugf("timing: phase=early-push platform=%s elapsed=%s ended=+%s dest=%s", name, since(t1), since(e.start), dest.StringWithinTransport())
	}
	return p, nil
}

// wait waits for every platform staged so far and returns the first
// failure.
func (e *earlyStager) wait() error {
	if e == nil {
		return nil
	}
	e.wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.errs) > 0 {
		return e.errs[0] // the others were cancelled by it
	}
	return nil
}

// staged returns the staged parts of images, in their order, after wait.
func (e *earlyStager) staged(images []PlatformImage) ([]*index.Staged, error) {
	out := make([]*index.Staged, len(images))
	for i, img := range images {
		if out[i] = e.parts[img.ImageID]; out[i] == nil {
			return nil, fmt.Errorf("%s image %s was not staged", emulation.FormatPlatform(img.Platform), img.ImageID)
		}
	}
	return out, nil
}

// close stops staging still under way, waits for it and removes every
// staging directory. It is safe on a nil stager and more than once.
func (e *earlyStager) close() {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, p := range e.parts {
		p.Close()
		delete(e.parts, id)
	}
	for _, st := range e.exports {
		st.Discard()
	}
}

// completeExports completes every prepared OCI output from the staged
// result p (manifests and index.json; the blobs are there already).
func (e *earlyStager) completeExports(ctx context.Context, p *index.Staged) error {
	for _, st := range e.exports {
		if err := p.ExportTo(ctx, st, reportWriter(e.o)); err != nil {
			return err
		}
	}
	return nil
}

// since formats the time since t in milliseconds.
func since(t time.Time) time.Duration {
	return time.Since(t).Round(time.Millisecond)
}

// stageResult returns the staged result for the outputs: the index (or
// single image) composed from the platforms staged during the build, or,
// without a stager, read out of local storage now.
func stageResult(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, res *Result, early *earlyStager, sign *signer.Signer) (*index.Staged, error) {
	opts := index.StageOptions{Compression: o.Compression, ReportWriter: reportWriter(o), Retry: o.Retry, Format: o.manifestFormat(), Signer: sign}
	if early == nil {
		return index.Stage(ctx, store, sys, res.ID, opts)
	}
	t0 := time.Now()
	if err := early.wait(); err != nil {
		return nil, err
	}
	logrus.Debugf("timing: phase=early-wait platform=all elapsed=%s ended=+%s", since(t0), since(early.start))
	parts, err := early.staged(res.Images)
	if err != nil {
		return nil, err
	}
	if res.IndexID == "" {
		parts[0].SetSigner(sign)
		return parts[0], nil // a single image: its part is the result
	}
	t1 := time.Now()
	p, err := index.StageIndex(ctx, store, sys, res.ID, parts, opts)
	logrus.Debugf("timing: phase=compose-index platform=all elapsed=%s", since(t1))
	return p, err
}

// stageOptions are the options of every platform's staging.
func (e *earlyStager) stageOptions() index.StageOptions {
	return index.StageOptions{Compression: e.o.Compression, ReportWriter: reportWriter(e.o), Retry: e.o.Retry, Format: e.o.manifestFormat(), Shared: e.shared}
}
