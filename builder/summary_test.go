package builder

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	sec := time.Second
	steps := []StepRecord{
		{Index: 1, Total: 4, Instruction: "FROM busybox", Emulated: true, Elapsed: sec},
		{Index: 2, Total: 4, Instruction: "COPY . /src", Emulated: true, Cached: true, Elapsed: sec},
		{Index: 3, Total: 4, Instruction: "RUN make", Emulated: true, Elapsed: 8 * sec},
		{Index: 4, Total: 4, Instruction: "run true", Emulated: true, Elapsed: sec},
	}
	native := []StepRecord{
		{Index: 1, Total: 2, Instruction: "FROM busybox", Elapsed: sec},
		{Index: 2, Total: 2, Instruction: "RUN make", Elapsed: 8 * sec},
	}
	for _, tc := range []struct {
		name          string
		steps         []StepRecord
		wall          time.Duration
		run, cached   int
		emulated      time.Duration
		slowest, hint string
	}{
		{"emulated RUN dominates", steps, 12 * sec, 2, 1, 9 * sec, "[3/4] RUN make", "8.0s of its 12.0s (67%) in the emulated step [3/4] RUN make"},
		{"emulated RUN under half", steps, 20 * sec, 2, 1, 9 * sec, "[3/4] RUN make", ""},
		{"native RUN gets no hint", native, 9 * sec, 1, 0, 0, "", ""},
		{"nothing ran", nil, sec, 0, 0, 0, "", ""},
		{"whole-build cache, under a millisecond", nil, 420 * time.Microsecond, 0, 0, 0, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := summarize("linux/s390x", tc.wall, 0, tc.steps)
			if want := tc.wall.Seconds(); s.WallSeconds != want {
				t.Errorf("wall %v s, want %v s", s.WallSeconds, want)
			}
			if s.Run != tc.run || s.Cached != tc.cached || s.Steps != tc.run+tc.cached {
				t.Errorf("run %d cached %d steps %d, want %d %d", s.Run, s.Cached, s.Steps, tc.run, tc.cached)
			}
			if s.EmulatedRun != tc.emulated {
				t.Errorf("emulated run %s, want %s", s.EmulatedRun, tc.emulated)
			}
			slowest := ""
			if s.SlowestEmulatedRun != nil {
				slowest = s.SlowestEmulatedRun.Step
			}
			if slowest != tc.slowest {
				t.Errorf("slowest %q, want %q", slowest, tc.slowest)
			}
			if h := s.Hint(); (tc.hint == "") != (h == "") || !strings.Contains(h, tc.hint) || (h != "" && !strings.Contains(h, "FROM --platform=$BUILDPLATFORM")) {
				t.Errorf("hint %q, want one containing %q", h, tc.hint)
			}
		})
	}
}

func TestWriteSummary(t *testing.T) {
	sums := []PlatformSummary{
		{Platform: "linux/amd64", Wall: 2100 * time.Millisecond, Steps: 3, Run: 1, Cached: 2},
		summarize("linux/s390x", 10*time.Second, 0, []StepRecord{{Index: 2, Total: 2, Instruction: "RUN make", Emulated: true, Elapsed: 7 * time.Second}}),
	}
	var b bytes.Buffer
	WriteSummary(&b, sums)
	want := "PLATFORM     WALL   STEPS  RUN  CACHED  EMULATED RUN\n" +
		"linux/amd64  2.1s   3      1    2       -\n" +
		"linux/s390x  10.0s  1      1    0       7.0s (70%)\n" +
		"hint: linux/s390x spent 7.0s of its 10.0s (70%) in the emulated step [2/2] RUN make; "
	if !strings.HasPrefix(b.String(), want) {
		t.Errorf("summary:\n%s\nwant it to start with:\n%s", b.String(), want)
	}
	b.Reset()
	WriteSummary(&b, nil)
	if b.Len() != 0 {
		t.Errorf("no platforms wrote %q", b.String())
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0.0s", 40 * time.Millisecond: "0.0s", 12449 * time.Millisecond: "12.4s", 62300 * time.Millisecond: "1m2.3s",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
