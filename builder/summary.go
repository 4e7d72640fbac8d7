package builder

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// hintShare is the share of a platform's wall time above which its
// slowest emulated RUN step earns a cross-compilation hint; hintMin is
// the least time such a step must take, so short builds get no hint.
const (
	hintShare = 0.5
	hintMin   = time.Second
	// hintStepWidth is as much of the step as the hint quotes.
	hintStepWidth = 60
)

// PlatformSummary is what one platform's build did and where its time
// went, from buildah's step lines. Durations are also given in seconds
// for the metadata file.
type PlatformSummary struct {
	Platform string `json:"platform"`
	// Wall is the platform's build time, base import to final commit.
	Wall        time.Duration `json:"-"`
	WallSeconds float64       `json:"wallSeconds"`
	// Steps counts the steps after FROM; Run of them executed and Cached
	// were taken from the layer cache.
	Steps  int `json:"steps"`
	Run    int `json:"stepsRun"`
	Cached int `json:"stepsCached"`
	// EmulatedRun is the time spent in RUN steps executed under qemu.
	EmulatedRun        time.Duration `json:"-"`
	EmulatedRunSeconds float64       `json:"emulatedRunSeconds"`
	// Commit is the time spent committing the final image.
	Commit        time.Duration `json:"-"`
	CommitSeconds float64       `json:"commitSeconds"`
	// SlowestEmulatedRun is the longest emulated RUN step, if any ran.
	SlowestEmulatedRun *SlowStep `json:"slowestEmulatedRun,omitempty"`
}

// SlowStep names a step and its duration.
type SlowStep struct {
	Step    string        `json:"step"`
	Elapsed time.Duration `json:"-"`
	Seconds float64       `json:"seconds"`
}

// summarize computes a platform's summary from its recorded steps.
func summarize(platform string, wall, commit time.Duration, steps []StepRecord) PlatformSummary {
	s := PlatformSummary{Platform: platform, Wall: wall, Commit: commit}
	for _, st := range steps {
		if st.isFrom() {
			continue
		}
		s.Steps++
		if st.Cached {
			s.Cached++
			continue
		}
		s.Run++
		if !st.Emulated || !st.IsRun() {
			continue
		}
		s.EmulatedRun += st.Elapsed
		if s.SlowestEmulatedRun == nil || st.Elapsed > s.SlowestEmulatedRun.Elapsed {
			s.SlowestEmulatedRun = &SlowStep{Step: st.Label(), Elapsed: st.Elapsed, Seconds: seconds(st.Elapsed)}
		}
	}
	s.WallSeconds, s.EmulatedRunSeconds, s.CommitSeconds = seconds(wall), seconds(s.EmulatedRun), seconds(commit)
	return s
}

// seconds returns d in seconds, to the microsecond: a platform taken
// from the whole-build cache can take less than a millisecond, and its
// wall time is still not zero.
func seconds(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1e6
}

// Hint suggests cross-compilation when the slowest emulated RUN step
// dominates the platform's build; "" otherwise.
func (s PlatformSummary) Hint() string {
	slow := s.SlowestEmulatedRun
	if slow == nil || s.Wall <= 0 || slow.Elapsed < hintMin || float64(slow.Elapsed) <= hintShare*float64(s.Wall) {
		return ""
	}
	return fmt.Sprintf("hint: %s spent %s of its %s (%.0f%%) in the emulated step %s; "+
		"run that stage natively with FROM --platform=$BUILDPLATFORM and cross-compile for $TARGETPLATFORM (TARGETOS/TARGETARCH build args)",
		s.Platform, shortDuration(slow.Elapsed), shortDuration(s.Wall), 100*float64(slow.Elapsed)/float64(s.Wall), fit(slow.Step, hintStepWidth))
}

// WriteSummary writes a table of the platforms' summaries to w, then a
// hint for every platform an emulated RUN step dominates.
func WriteSummary(w io.Writer, sums []PlatformSummary) {
	if len(sums) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PLATFORM\tWALL\tSTEPS\tRUN\tCACHED\tEMULATED RUN")
	for _, s := range sums {
		emu := "-"
		if s.EmulatedRun > 0 {
			emu = fmt.Sprintf("%s (%.0f%%)", shortDuration(s.EmulatedRun), 100*float64(s.EmulatedRun)/float64(max(s.Wall, 1)))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", s.Platform, shortDuration(s.Wall), s.Steps, s.Run, s.Cached, emu)
	}
	_ = tw.Flush()
	for _, s := range sums {
		if h := s.Hint(); h != "" {
			fmt.Fprintln(w, h)
		}
	}
}

// shortDuration formats d to a tenth of a second: 0.4s, 12.4s, 1m2.3s.
func shortDuration(d time.Duration) string {
	d = d.Round(100 * time.Millisecond)
	if d == 0 {
		return "0.0s"
	}
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.String()
}
