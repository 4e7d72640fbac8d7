package builder

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/session"
	"go.podman.io/buildah/define"
	"go.podman.io/buildah/imagebuildah"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// buildPlatforms builds every platform, at most o.Jobs at once, and
// returns their images in the requested order. The first failure, or the
// end of ctx, stops the other platforms, RUN steps included; with
// --keep-going a failure stops only its platform, and is returned in
// failures at its platform's index (its image is then the zero value).
// built, if set, is told of each platform image as soon as it is
// committed (earlyStager.built).
func buildPlatforms(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, built func(i int, id string)) (images []PlatformImage, failures []error, err error) {
	images, failures = make([]PlatformImage, len(o.Platforms)), make([]error, len(o.Platforms))
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopRunSteps, err := watchRunSteps(bctx)
	if err != nil {
		return nil, nil, err
	}
	var g errgroup.Group
	if o.Jobs > 0 {
		g.SetLimit(o.Jobs)
	}
	var once sync.Once
	var first error // the failure that stopped the others
	stdout, stderr := &lockedWriter{w: orDiscard(o.Stdout)}, &lockedWriter{w: orDiscard(o.Stderr)}
	board := newBoard(o)
	for i, p := range o.Platforms {
		g.Go(func() error {
			id, sum, err := buildOne(bctx, o, store, sys, newPlatformOutput(o, board, i, p, stdout, stderr))
			board.finishPlatform(i, err, bctx.Err() != nil)
			if err != nil {
				err = platformError(emulation.FormatPlatform(p), err)
				if o.Fanout.KeepGoing && ctx.Err() == nil {
					failures[i] = err
					return nil
				}
				once.Do(func() { first = err })
				cancel()
				return err
			}
			images[i] = PlatformImage{Platform: p, ImageID: id, Summary: sum}
			if built != nil {
				built(i, id)
			}
			return nil
		})
	}
	err = g.Wait()
	board.stopBoard()
	if first != nil {
		err = first
	}
	// Every RUN process is gone before the build returns, so before
	// polyarch exits, successful or not.
	stopErr := stopRunSteps()
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, errors.Join(fmt.Errorf("build interrupted, nothing was published: %w", ctx.Err()), stopErr)
		}
		if session.SingleMapping() && strings.Contains(err.Error(), "chown") {
			err = fmt.Errorf("%w\nnote: this user namespace maps a single uid, so RUN chown to any other uid fails: add /etc/subuid and /etc/subgid ranges for this user (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER)", err)
		}
		return nil, nil, errors.Join(err, stopErr)
	}
	if stopErr != nil {
		return nil, nil, stopErr
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("build interrupted: %w", err)
	}
	return images, failures, nil
}

// buildOne builds the Containerfile for one platform with buildah and
// returns the ID of the image it committed, and a summary of its steps.
func buildOne(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, po *platformOutput) (string, *PlatformSummary, error) {
	start := time.Now()
	po.begin()
	p := po.platform
	defer po.flush()
	opts := buildahOptions(o, sys, p)
	if err := o.Cache.apply(&opts, p); err != nil {
		return "", nil, err
	}
	if ann := o.Plan.baseNameAnnotation(o, p); ann != "" && !o.docker() { // Docker manifests hold no annotations
		opts.Annotations = append([]string{ann}, opts.Annotations...)
	}
	// buildah is never quiet: po hides what quiet hides, and its step
	// tracker still sees the steps.
	opts.Out, opts.Err, opts.ReportWriter = po.out, po.err, po.report
	imported := timed("base-import", po.tracker.platform)
	bases, err := importLayoutBases(ctx, o, o.Plan, store, sys, p, opts.ReportWriter)
	if err == nil {
		bases, err = withLocalMislabelled(ctx, o, store, sys, p, bases)
	}
	if err != nil {
		return "", nil, err
	}
	opts.PullPolicy = buildahPullPolicy(o, bases)
	if opts.AdditionalBuildContexts, err = buildahContexts(ctx, o, store, sys, p, bases, opts.ReportWriter); err != nil {
		return "", nil, err
	}
	imported()
	key := o.wholeCache.key(p, &opts)
	if id, sum := o.wholeCache.reuse(key, po, start); id != "" {
		return id, sum, nil
	}
	id, _, err := imagebuildah.BuildDockerfiles(ctx, store, opts, o.Containerfile)
	if err == nil && !o.NoCache {
		id, err = checkCachedPlatform(ctx, store, sys, id, p, po.err, func() (string, error) {
			po.tracker.reset()
			opts.NoCache = true
			id, _, err := imagebuildah.BuildDockerfiles(ctx, store, opts, o.Containerfile)
			return id, err
		})
	}
	if err != nil {
		return "", nil, err
	}
	sum := po.summary(start)
	if key != "" {
		o.wholeCache.record(key, keyEntry{Image: id, Steps: sum.Steps})
	}
	return id, sum, nil
}

// buildahOptions translates polyarch's options for one platform.
func buildahOptions(o *Options, sys *types.SystemContext, p specs.Platform) define.BuildOptions {
	platformSys := *sys
	jobs := 1
	opts := define.BuildOptions{
		ContextDirectory:        o.ContextDir,
		PullPolicy:              pullPolicy(o.Pull),
		Args:                    maps.Clone(o.BuildArgs),
		Target:                  o.Target,
		NoCache:                 o.NoCache,
		Layers:                  !o.Cache.FinalOnly,
		RemoveIntermediateCtrs:  true,
		ContainerSuffix:         buildContainerSuffix,
		ForceRmIntermediateCtrs: true,
		OutputFormat:            o.buildahFormat(),
		SystemContext:           &platformSys,
		SignaturePolicyPath:     sys.SignaturePolicyPath,
		Platforms:               []struct{ OS, Arch, Variant string }{{p.OS, p.Architecture, p.Variant}},
		CommonBuildOpts:         &define.CommonBuildOptions{Ulimit: currentUlimits()},
		NetworkInterface:        hostNetwork{},
		ConfigureNetwork:        define.NetworkEnabled,
		Jobs:                    &jobs,
		SkipUnusedStages:        types.OptionalBoolTrue,
		MaxPullPushRetries:      o.Retry,
	}
	o.applyFlags(&opts)
	return opts
}

// pullPolicy maps polyarch's pull policy to buildah's.
func pullPolicy(p PullPolicy) define.PullPolicy {
	switch p {
	case PullAlways:
		return define.PullAlways
	case PullNever:
		return define.PullNever
	}
	return define.PullIfMissing
}

// currentUlimits returns the process's own NOFILE and NPROC limits, so
// buildah does not try to raise them (refused without CAP_SYS_RESOURCE).
// Unlimited is written -1, the form buildah's parser accepts.
func currentUlimits() []string {
	var out []string
	for _, l := range []struct {
		name     string
		resource int
	}{{"nofile", unix.RLIMIT_NOFILE}, {"nproc", unix.RLIMIT_NPROC}} {
		var rl unix.Rlimit
		if err := unix.Getrlimit(l.resource, &rl); err == nil {
			out = append(out, fmt.Sprintf("%s=%s:%s", l.name, rlimitValue(rl.Cur), rlimitValue(rl.Max)))
		}
	}
	return out
}

// rlimitValue formats one limit, -1 for unlimited.
func rlimitValue(v uint64) string {
	if v == unix.RLIM_INFINITY {
		return "-1"
	}
	return fmt.Sprint(v)
}
