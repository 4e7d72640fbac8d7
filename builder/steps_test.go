package builder

import (
	"strings"
	"testing"
	"time"
)

func TestParseStepLine(t *testing.T) {
	for _, tc := range []struct {
		line  string
		kind  lineKind
		label string
		stage int
	}{
		{"STEP 3/7: RUN make", lineStep, "[3/7] RUN make", 0},
		{"STEP 1/2: FROM busybox AS a\r", lineStep, "[1/2] FROM busybox AS a", 0},
		{"[2/3] STEP 4/4: RUN echo there", lineStep, "[2/3] [4/4] RUN echo there", 1},
		{"STEP 9: COPY . /src", lineStep, "[9] COPY . /src", 0},
		{"--> Using cache 5f529731009f59a200bcc835681f52b6be85431f7cd32ec93f10f951c3c37cb8", lineCached, "", 0},
		{"--> Cache pulled from remote reg/cache:abc", lineCached, "", 0},
		{"COMMIT", lineCommit, "", 0},
		{"[2/2] COMMIT reg/app:1", lineCommit, "", 0},
		{"--> 474995bf06da", lineImage, "", 0},
		{"--> Pushing cache reg/cache:abc", lineOther, "", 0},
		{"STEP is a word in RUN output", lineOther, "", 0},
		{"hi", lineOther, "", 0},
		{"COMMITTED", lineOther, "", 0},
	} {
		kind, step := parseStepLine(tc.line)
		if kind != tc.kind {
			t.Errorf("parseStepLine(%q) kind %d, want %d", tc.line, kind, tc.kind)
			continue
		}
		if kind == lineStep && (step.Label() != tc.label || step.Stage != tc.stage) {
			t.Errorf("parseStepLine(%q) = %q stage %d, want %q stage %d", tc.line, step.Label(), step.Stage, tc.label, tc.stage)
		}
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// feed writes each line to w after advancing the clock by its delay.
func feed(t *testing.T, tr *stepTracker, c *fakeClock, lines []timedLine) {
	t.Helper()
	for _, l := range lines {
		c.advance(l.after)
		if _, err := tr.Write([]byte(l.text + "\n")); err != nil {
			t.Fatal(err)
		}
	}
}

// timedLine is a line of buildah output, written after a delay.
type timedLine struct {
	after time.Duration
	text  string
}

func TestStepTracker(t *testing.T) {
	sec := time.Second
	for _, tc := range []struct {
		name     string
		emulated []bool
		lines    []timedLine
		want     []string // label cached emulated elapsed
		commit   time.Duration
	}{
		{
			name:     "first build, cross stage native",
			emulated: []bool{false, true},
			lines: []timedLine{
				{0, "[1/2] STEP 1/2: FROM golang AS build"},
				{sec, "[1/2] STEP 2/2: RUN go build"},
				{4 * sec, "out of go build"},
				{sec, "--> 09dd0a4c0484"},
				{0, "[2/2] STEP 1/2: FROM busybox"},
				{sec, "[2/2] STEP 2/2: RUN make"},
				{3 * sec, "[2/2] COMMIT app"},
				{2 * sec, "--> 474995bf06da"},
			},
			want: []string{
				"[1/2] [1/2] FROM golang AS build false false 1s",
				"[1/2] [2/2] RUN go build false false 5s",
				"[2/2] [1/2] FROM busybox false true 1s",
				"[2/2] [2/2] RUN make false true 3s",
			},
			commit: 2 * sec,
		},
		{
			name: "all cached, single stage past the plan",
			lines: []timedLine{
				{0, "STEP 1/3: FROM busybox"},
				{sec, "STEP 2/3: COPY . /"},
				{0, "--> Using cache e1121fa674b8597f5aa52b3e0198100eb8bdefb38c46dc40790ee905bc0ba42e"},
				{sec, "--> e1121fa674b8"},
				{0, "STEP 3/3: RUN make"},
				{0, "--> Using cache 23bb1abc01e0f449ccbb6e9d5d8b08ae1e97f8dbd64ad5bcf19301071bd3b98b"},
				{sec, "--> 23bb1abc01e0"},
			},
			want: []string{
				"[1/3] FROM busybox false true 1s",
				"[2/3] COPY . / true true 1s",
				"[3/3] RUN make true true 1s",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &fakeClock{t: time.Unix(0, 0)}
			tr := newStepTracker("linux/arm64", c.now, tc.emulated, true)
			feed(t, tr, c, tc.lines)
			steps, commit := tr.finish()
			var got []string
			for _, s := range steps {
				got = append(got, strings.Join([]string{s.Label(), bstr(s.Cached), bstr(s.Emulated), s.Elapsed.String()}, " "))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if commit != tc.commit {
				t.Errorf("commit %s, want %s", commit, tc.commit)
			}
		})
	}
}

func TestStepTrackerPartialLines(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0)}
	tr := newStepTracker("linux/amd64", c.now, nil, false)
	var labels []string
	tr.onStep = func(label string, _ time.Time) { labels = append(labels, label) }
	for _, chunk := range []string{"STEP 1/2: FR", "OM busybox\nSTEP 2/2", ": RUN true\n"} {
		_, _ = tr.Write([]byte(chunk))
	}
	if strings.Join(labels, "|") != "[1/2] FROM busybox|[2/2] RUN true" {
		t.Errorf("labels %q", labels)
	}
}

func bstr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestStepTrackerReset: a build started again (a cache hit of another
// variant) counts only its second run.
func TestStepTrackerReset(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0)}
	tr := newStepTracker("linux/arm/v7", c.now, nil, true)
	feed(t, tr, c, []timedLine{{0, "STEP 1/2: FROM busybox"}, {0, "STEP 2/2: RUN make"}, {0, "--> Using cache 23bb1abc01e0f449ccbb6e9d5d8b08ae1e97f8dbd64ad5bcf19301071bd3b98b"}, {time.Second, "--> 23bb1abc01e0"}})
	tr.reset()
	feed(t, tr, c, []timedLine{{0, "STEP 1/2: FROM busybox"}, {time.Second, "STEP 2/2: RUN make"}, {2 * time.Second, "COMMIT"}, {time.Second, "--> 474995bf06da"}})
	steps, commit := tr.finish()
	s := summarize("linux/arm/v7", 5*time.Second, commit, steps)
	if s.Steps != 1 || s.Run != 1 || s.Cached != 0 || s.EmulatedRun != 2*time.Second || commit != time.Second {
		t.Errorf("after reset: %+v, commit %s; want 1 step run, 2s emulated, 1s commit", s, commit)
	}
}
