package builder

import (
	"io"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
)

// platformOutput is where one platform's buildah output goes, by
// progress mode, and the tracker that follows its steps.
type platformOutput struct {
	platform         specs.Platform
	out, err, report io.Writer
	tracker          *stepTracker
	flush            func()
	begin            func()
}

// newPlatformOutput routes platform i's output: plain prefixes every line
// to stdout (errors and reports to stderr); quiet keeps only errors; live
// status shows the current step on board, errors above it.
func newPlatformOutput(o *Options, board *statusBoard, i int, p specs.Platform, stdout, stderr io.Writer) *platformOutput {
	name := emulation.FormatPlatform(p)
	t := newStepTracker(name, time.Now, o.Plan.stageEmulation(o, p), !isHostPlatform(p))
	po := &platformOutput{platform: p, tracker: t, begin: func() {}}
	switch {
	case board != nil:
		errw := newPrefixWriter(board, name)
		t.onLine = func(l string) { board.line(i, l) }
		t.onStep = func(label string, at time.Time) { board.step(i, label, at) }
		po.out, po.err, po.flush = t, errw, errw.Flush
		po.begin = func() { board.begin(i) }
	case o.Quiet:
		errw := newPrefixWriter(stderr, name)
		po.out, po.err, po.flush = t, errw, errw.Flush
	default:
		out, errw := newPrefixWriter(stdout, name), newPrefixWriter(stderr, name)
		po.out, po.err, po.report = io.MultiWriter(out, t), errw, errw
		po.flush = func() { out.Flush(); errw.Flush() }
	}
	return po
}

// summary ends the tracking and summarises the platform's build, which
// started at start.
func (po *platformOutput) summary(start time.Time) *PlatformSummary {
	steps, commit := po.tracker.finish()
	wall := time.Since(start)
	logTiming("build", po.tracker.platform, wall)
	s := summarize(po.tracker.platform, wall, commit, steps)
	return &s
}

// stageEmulation says, for each stage of the Containerfile built for
// target, whether its RUN steps run under qemu (a stage FROM
// --platform=$BUILDPLATFORM does not); nil without a plan.
func (p *Plan) stageEmulation(o *Options, target specs.Platform) []bool {
	if p == nil || p.file == nil {
		return nil
	}
	out := make([]bool, len(p.file.Stages))
	for i, s := range p.file.Stages {
		sp, err := p.file.stagePlatform(s, o.BuildArgs, target)
		if err != nil {
			sp = target
		}
		out[i] = !isHostPlatform(sp)
	}
	return out
}

// newBoard returns the live status board when o shows one, started.
func newBoard(o *Options) *statusBoard {
	if !o.liveStatus {
		return nil
	}
	names := make([]string, len(o.Platforms))
	for i, p := range o.Platforms {
		names[i] = emulation.FormatPlatform(p)
	}
	b := newStatusBoard(o.Stderr, names, terminalWidth(o.Stderr), time.Now)
	b.start()
	return b
}
