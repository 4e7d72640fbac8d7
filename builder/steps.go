package builder

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// StepRecord is one Containerfile step of one platform's build, as
// buildah reported it.
type StepRecord struct {
	// Stage is the 0-based stage index of Stages (0: a single stage);
	// Index and Total number the step within its stage (Total 0: buildah
	// did not say).
	Stage, Stages, Index, Total int
	// Instruction is the step as buildah printed it, e.g. "RUN make".
	Instruction string
	// Cached is true when buildah reused a cached layer for the step.
	Cached bool
	// Emulated is true when the step's stage runs under qemu.
	Emulated bool
	// Elapsed is how long the step took.
	Elapsed time.Duration
}

// IsRun reports whether the step is a RUN instruction.
func (s StepRecord) IsRun() bool {
	return strings.EqualFold(firstWord(s.Instruction), "RUN")
}

// isFrom reports whether the step is a FROM instruction.
func (s StepRecord) isFrom() bool {
	return strings.EqualFold(firstWord(s.Instruction), "FROM")
}

// Label is the step as a status line shows it: "[3/7] RUN make", with
// the stage first in multi-stage builds: "[2/2] [3/7] RUN make".
func (s StepRecord) Label() string {
	n := strconv.Itoa(s.Index)
	if s.Total > 0 {
		n += "/" + strconv.Itoa(s.Total)
	}
	label := "[" + n + "] " + s.Instruction
	if s.Stages > 1 {
		label = "[" + strconv.Itoa(s.Stage+1) + "/" + strconv.Itoa(s.Stages) + "] " + label
	}
	return label
}

// firstWord returns s's first space-separated word.
func firstWord(s string) string {
	w, _, _ := strings.Cut(strings.TrimSpace(s), " ")
	return w
}

// stepLineRE matches imagebuildah's step lines: "STEP 3/7: RUN make",
// "[2/3] STEP 1/4: FROM busybox" in multi-stage builds.
var stepLineRE = regexp.MustCompile(`^(?:\[(\d+)/(\d+)\] )?STEP (\d+)(?:/(\d+))?: (.*)$`)

// commitLineRE matches the COMMIT line that ends the last step.
var commitLineRE = regexp.MustCompile(`^(?:\[\d+/\d+\] )?COMMIT(?: .*)?$`)

// imageIDLineRE matches the "--> 0123456789ab" line after a commit.
var imageIDLineRE = regexp.MustCompile(`^--> [0-9a-f]{12,64}$`)

// lineKind classifies a line of buildah's output.
type lineKind int

const (
	lineOther  lineKind = iota
	lineStep            // a STEP line: a new step starts
	lineCached          // "--> Using cache ...": the current step was cached
	lineCommit          // "COMMIT ...": the image is being committed
	lineImage           // "--> ID": the step's (or the image's) commit is done
)

// parseStepLine classifies one line of buildah's output (without its
// newline) and, for a step line, returns the step it starts.
func parseStepLine(line string) (lineKind, StepRecord) {
	line = strings.TrimRight(line, "\r")
	if m := stepLineRE.FindStringSubmatch(line); m != nil {
		stage, _ := strconv.Atoi(m[1])
		if stage > 0 {
			stage--
		}
		stages, _ := strconv.Atoi(m[2])
		index, _ := strconv.Atoi(m[3])
		total, _ := strconv.Atoi(m[4])
		return lineStep, StepRecord{Stage: stage, Stages: stages, Index: index, Total: total, Instruction: m[5]}
	}
	switch {
	case strings.HasPrefix(line, "--> Using cache ") || strings.HasPrefix(line, "--> Cache pulled from remote"):
		return lineCached, StepRecord{}
	case commitLineRE.MatchString(line):
		return lineCommit, StepRecord{}
	case imageIDLineRE.MatchString(line):
		return lineImage, StepRecord{}
	}
	return lineOther, StepRecord{}
}

// stepTracker follows one platform's buildah output, line by line, and
// records its steps with their times. It is an io.Writer for a tee of
// buildah's Out.
type stepTracker struct {
	mu       sync.Mutex
	now      func() time.Time
	platform string
	// emulated says, per stage, whether RUN runs under qemu; stages past
	// its end use fallback.
	emulated []bool
	fallback bool
	// onStep, if set, is called (outside the lock) when a step starts or
	// the commit begins, with the label to show.
	onStep func(label string, start time.Time)
	// onLine, if set, receives every complete line.
	onLine func(line string)

	buf       []byte
	steps     []StepRecord
	current   *StepRecord
	started   time.Time
	commitAt  time.Time
	committed time.Duration
}

// newStepTracker returns a tracker for platform; emulated is per stage.
func newStepTracker(platform string, now func() time.Time, emulated []bool, fallback bool) *stepTracker {
	if now == nil {
		now = time.Now
	}
	return &stepTracker{platform: platform, now: now, emulated: emulated, fallback: fallback}
}

// Write splits p into lines and records the steps they announce.
func (t *stepTracker) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, p...)
	var lines []string
	for {
		i := bytes.IndexByte(t.buf, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, string(t.buf[:i]))
		t.buf = t.buf[i+1:]
	}
	t.mu.Unlock()
	for _, l := range lines {
		t.line(l)
	}
	return len(p), nil
}

// line records one line.
func (t *stepTracker) line(l string) {
	if t.onLine != nil {
		t.onLine(l)
	}
	kind, step := parseStepLine(l)
	t.mu.Lock()
	now := t.now()
	label := ""
	switch kind {
	case lineStep:
		t.closeStep(now)
		step.Emulated = t.stageEmulated(step.Stage)
		t.current, t.started = &step, now
		label = step.Label()
	case lineCached:
		if t.current != nil {
			t.current.Cached = true
		}
	case lineCommit:
		t.closeStep(now)
		t.commitAt = now
		label = "COMMIT"
	case lineImage:
		t.closeStep(now)
		t.closeCommit(now)
	}
	t.mu.Unlock()
	if label != "" && t.onStep != nil {
		t.onStep(label, now)
	}
}

// stageEmulated says whether stage runs under qemu.
func (t *stepTracker) stageEmulated(stage int) bool {
	if stage >= 0 && stage < len(t.emulated) {
		return t.emulated[stage]
	}
	return t.fallback
}

// closeStep ends the current step at now, if any.
func (t *stepTracker) closeStep(now time.Time) {
	if t.current == nil {
		return
	}
	s := *t.current
	s.Elapsed = now.Sub(t.started)
	t.steps = append(t.steps, s)
	t.current = nil
	phase := "step"
	if s.isFrom() {
		phase = "from" // buildah resolves, pulls if needed, and mounts the base
	}
	logStepTiming(phase, t.platform, s)
}

// closeCommit ends a running commit at now.
func (t *stepTracker) closeCommit(now time.Time) {
	if t.commitAt.IsZero() {
		return
	}
	d := now.Sub(t.commitAt)
	t.committed += d
	t.commitAt = time.Time{}
	logTiming("commit", t.platform, d)
}

// finish ends what is still open and returns the recorded steps and the
// time spent committing the final image.
func (t *stepTracker) finish() ([]StepRecord, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.closeStep(now)
	t.closeCommit(now)
	return append([]StepRecord(nil), t.steps...), t.committed
}

// reset forgets the steps recorded so far, for a build started again.
func (t *stepTracker) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.steps, t.current, t.commitAt, t.committed = nil, nil, time.Time{}, 0
}
