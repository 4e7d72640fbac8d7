package builder

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/polyarch/polyarch/index"
	"github.com/polyarch/polyarch/session"
)

// Build builds the Containerfile for every platform in o.Platforms and
// stores one OCI image index holding the platform images in request order.
// Nothing is published unless every platform succeeds: the index is
// written to each output first, and only then tagged in local storage, so
// a failure leaves existing tags and output paths as they were.
func Build(ctx context.Context, o Options) (*Result, error) {
	preflight := timed("preflight", timingAll)
	ctx, closeSources := withSourceCache(ctx)
	defer closeSources()
	o.Provenance.started = time.Now()
	plan, err := planOf(&o)
	if err != nil {
		return nil, err
	}
	tags, err := index.NormalizeNames(o.Tags)
	if err != nil {
		return nil, err
	}
	emulationReady := startEmulation(ctx, o.Emulation, plan.emulators, o.Stderr)
	defer func() { _ = emulationReady() }() // waited for on every path
	store, err := openStore(o.Store, o.Stderr)
	if err != nil {
		return nil, err
	}
	defer func() { _, _ = store.Shutdown(false) }()
	unlock, err := session.LockStoreForBuildCleaning(store.RunRoot(), func() { removeDeadBuilds(store, o.Stderr) })
	if err != nil {
		return nil, err
	}
	defer unlock()
	leaveRunDir, _ := session.EnterRunDir() // without one, temporary files go to TMPDIR
	defer leaveRunDir()
	o.imports = &importSet{}
	defer o.imports.dropUnused(store, o.Stderr)
	snap, err := prepareStore(store, o.Stderr)
	if err != nil {
		return nil, err
	}
	sys, err := systemContext(&o, store)
	if err != nil {
		return nil, err
	}
	work, err := newWorkDir()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	sys.BigFilesTemporaryDir = work
	o.archives = newArchiveDirs(work)
	if err := o.writeStdinContainerfile(work); err != nil {
		return nil, err
	}
	o.wholeCache = newWholeCache(&o, store)
	report, err := reportUserLookups(work)
	if err != nil {
		return nil, err
	}
	defer os.Unsetenv(lookupReportEnv)
	if err := o.Inputs.findRuntime(ctx, work); err != nil {
		return nil, err
	}
	if err := checkPushTargets(ctx, &o, sys, tags); err != nil {
		return nil, err
	}
	if err := checkDigestTarget(ctx, &o, sys); err != nil {
		return nil, err
	}
	if err := checkCacheTargets(ctx, &o, sys); err != nil {
		return nil, err
	}
	if err := checkShrink(ctx, &o, sys, tags, o.Platforms); err != nil {
		return nil, err
	}
	if err := checkBases(ctx, &o, store, sys, plan.needs); err != nil {
		return nil, err
	}
	if err := checkBaseLabels(ctx, &o, store, sys, plan.needs); err != nil {
		return nil, err
	}
	if err := emulationReady(); err != nil {
		return nil, err
	}
	preflight()
	early, err := newEarlyStager(ctx, &o, store, sys, tags)
	if err != nil {
		return nil, err
	}
	defer early.close()
	o.baseBlobs = early.sharedLayers()
	images, failures, err := buildPlatformsOrAbandon(ctx, &o, store, sys, early.built)
	if err == nil {
		var res *Result
		if res, err = publishKept(ctx, &o, store, sys, images, failures, tags, early); err == nil || published(err) {
			return res, err
		}
	}
	early.close() // staging stopped and removed before the store is cleaned up
	return nil, afterFailure(err, &o, store, snap, spacePlaces(store, work), func(err error) error { return explainLookup(err, report, plan) })
}

// reportWriter returns where copy progress goes.
func reportWriter(o *Options) io.Writer {
	if o.Quiet || o.Stderr == nil {
		return nil
	}
	return o.Stderr
}

// platformError prefixes a build error with its platform.
func platformError(p string, err error) error {
	return &PlatformError{Platform: p, Err: err}
}
