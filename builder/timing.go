package builder

import (
	"time"

	"github.com/sirupsen/logrus"
)

// timingAll names phases shared by every platform in timing lines.
const timingAll = "all"

// Phases timed at debug level: preflight (checks before any build),
// emulation (handlers mounted, registered and probed, during preflight),
// base-import (polyarch's import of oci: bases and named contexts, per
// platform), build-key (the whole-build cache lookup, with hit=, see
// wholecache.go), from (a FROM step: buildah resolves and, if needed, pulls
// the base and creates the working container), step (every other step,
// its layer commit included), commit (the final image), build (one
// platform, end to end), assemble (the index), staging+compression (the
// result read out of storage once, layers compressed as they are
// copied), export, push-by-digest and push. While other platforms still
// build, each committed platform logs early-staging (read out of storage,
// compressed), early-export (blobs into prepared OCI layouts) and
// early-push (blobs and manifest by digest), with ended=+D since the
// builds started; early-wait is the wait for the last ones, and
// compose-index the index staged from them (see overlap.go).

// timed starts timing a phase of the build for platform (timingAll when
// shared); calling the returned func logs its elapsed time at debug
// level, as "timing: phase=P platform=X elapsed=D".
func timed(phase, platform string) func() {
	if !logrus.IsLevelEnabled(logrus.DebugLevel) {
		return func() {}
	}
	start := time.Now()
	return func() { logTiming(phase, platform, time.Since(start)) }
}

// logTiming logs one phase's elapsed time at debug level.
func logTiming(phase, platform string, d time.Duration) {
	logrus.Debugf("timing: phase=%s platform=%s elapsed=%s", phase, platform, d.Round(time.Millisecond))
}

// logStepTiming logs one Containerfile step's elapsed time at debug level.
func logStepTiming(phase, platform string, s StepRecord) {
	logrus.Debugf("timing: phase=%s platform=%s elapsed=%s step=%q cached=%t emulated=%t",
		phase, platform, s.Elapsed.Round(time.Millisecond), s.Label(), s.Cached, s.Emulated && s.IsRun())
}

// timedErr runs f, a phase shared by every platform, and logs its time.
func timedErr(phase string, f func() error) error {
	defer timed(phase, timingAll)()
	return f()
}
