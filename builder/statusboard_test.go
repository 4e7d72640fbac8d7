package builder

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// screen replays the board's output on a tiny terminal model that knows
// the escapes the board uses: cursor up, carriage return, clear line.
func screen(out string) []string {
	var lines []string
	row := 0
	for len(out) > 0 {
		switch {
		case strings.HasPrefix(out, "\x1b["):
			end := strings.IndexAny(out, "AK")
			n := 0
			for _, c := range out[2:end] {
				n = n*10 + int(c-'0')
			}
			if out[end] == 'A' {
				row -= n
			} else if row < len(lines) {
				lines[row] = ""
			}
			out = out[end+1:]
		case out[0] == '\r':
			out = out[1:]
		default:
			nl := strings.IndexByte(out, '\n')
			for row >= len(lines) {
				lines = append(lines, "")
			}
			lines[row] += out[:nl]
			row++
			out = out[nl+1:]
		}
	}
	return lines
}

func TestStatusBoard(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0)}
	var out bytes.Buffer
	b := newStatusBoard(&out, []string{"linux/amd64", "linux/arm64", "linux/s390x"}, 40, c.now)
	steps := []struct {
		do   func()
		want []string
	}{
		{func() {}, []string{"linux/amd64  waiting  0.0s", "linux/arm64  waiting  0.0s", "linux/s390x  waiting  0.0s"}},
		{func() { b.begin(0) }, []string{"linux/amd64  starting  0.0s", "linux/arm64  waiting  0.0s", "linux/s390x  waiting  0.0s"}},
		{func() {
			b.step(1, "[3/7] RUN make", c.now())
			c.advance(12400 * time.Millisecond)
		}, []string{"linux/amd64  starting  12.4s", "linux/arm64  [3/7] RUN make  12.4s", "linux/s390x  waiting  12.4s"}},
		{func() {
			b.step(0, "[2/2] [4/4] RUN a very long command that cannot fit", c.now())
			c.advance(time.Second)
		}, []string{"linux/amd64  [2/2] [4/4] RUN a v…  1.0s", "linux/arm64  [3/7] RUN make  13.4s", "linux/s390x  waiting  13.4s"}},
		{func() {
			_, _ = b.Write([]byte("[linux/arm64] WARN something\n"))
			b.finishPlatform(0, nil, false)
		}, []string{"[linux/arm64] WARN something", "linux/amd64  done  13.4s", "linux/arm64  [3/7] RUN make  13.4s", "linux/s390x  waiting  13.4s"}},
		{func() {
			b.line(1, "make: *** [all] Error 2")
			b.finishPlatform(1, errors.New("exit status 2"), false)
		}, []string{"[linux/arm64] WARN something", "[linux/arm64] make: *** [all] Error 2", "linux/amd64  done  13.4s", "linux/arm64  failed  13.4s", "linux/s390x  waiting  13.4s"}},
		{func() {
			b.line(2, "half-way output")
			b.finishPlatform(2, errors.New("context canceled"), true)
		}, []string{"[linux/arm64] WARN something", "[linux/arm64] make: *** [all] Error 2", "linux/amd64  done  13.4s", "linux/arm64  failed  13.4s", "linux/s390x  stopped  13.4s"}},
	}
	for i, st := range steps {
		st.do()
		b.render()
		if got := screen(out.String()); strings.Join(got, "\n") != strings.Join(st.want, "\n") {
			t.Errorf("step %d: screen\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(st.want, "\n"))
		}
	}
}

func TestParseProgress(t *testing.T) {
	for in, want := range map[string]ProgressMode{"": ProgressAuto, "auto": ProgressAuto, "PLAIN": ProgressPlain, "quiet": ProgressQuiet, "tty": ""} {
		got, err := ParseProgress(in)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("ParseProgress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestResolveProgress(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	for _, tc := range []struct {
		name  string
		o     Options
		mode  ProgressMode
		quiet bool
	}{
		{"auto off a terminal is plain", Options{Stderr: devnull}, ProgressAuto, false},
		{"quiet flag", Options{Quiet: true}, ProgressQuiet, true},
		{"quiet mode", Options{Progress: ProgressQuiet}, ProgressQuiet, true},
		{"plain", Options{Progress: ProgressPlain, Stderr: &bytes.Buffer{}}, ProgressPlain, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			if err := o.resolveProgress(); err != nil {
				t.Fatal(err)
			}
			if o.Progress != tc.mode || o.Quiet != tc.quiet || o.liveStatus {
				t.Errorf("progress %q quiet %t live %t, want %q %t false", o.Progress, o.Quiet, o.liveStatus, tc.mode, tc.quiet)
			}
		})
	}
}

// TestStatusBoardLive redraws while platforms report steps from their own
// goroutines (run with -race), and ends on the final state.
func TestStatusBoardLive(t *testing.T) {
	var out lockedBuffer
	b := newStatusBoard(&out, []string{"linux/amd64", "linux/s390x"}, 80, nil)
	b.start()
	done := make(chan struct{})
	for i := range 2 {
		go func() {
			defer func() { done <- struct{}{} }()
			b.begin(i)
			for n := range 50 {
				b.step(i, "[1/1] RUN step "+strings.Repeat("x", n%5), time.Now())
				b.line(i, "output")
				time.Sleep(time.Millisecond)
			}
			b.finishPlatform(i, nil, false)
		}()
	}
	<-done
	<-done
	b.stopBoard()
	got := screen(out.String())
	if len(got) != 2 || !strings.HasPrefix(got[0], "linux/amd64  done") || !strings.HasPrefix(got[1], "linux/s390x  done") {
		t.Errorf("final screen %q", got)
	}
}

// lockedBuffer is a bytes.Buffer safe for the board's goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
