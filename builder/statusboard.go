package builder

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sirupsen/logrus"
)

// boardTail is how many output lines a platform keeps for its failure.
const boardTail = 20

// boardRefresh is how often the live status lines are redrawn.
const boardRefresh = 200 * time.Millisecond

// statusBoard shows one live status line per platform on a terminal,
// redrawn in place, with other messages printed above it.
type statusBoard struct {
	mu    sync.Mutex
	out   io.Writer
	now   func() time.Time
	width int
	rows  []boardRow
	pad   int // platform column width
	drawn int // lines drawn by the last render
	stop  chan struct{}
	done  chan struct{}
	// logOut is where logrus wrote before the board took its lines.
	logOut io.Writer
}

// boardRow is one platform's state.
type boardRow struct {
	platform string
	label    string
	since    time.Time // when label started
	start    time.Time // when the platform started
	status   string    // "" while building, else its final word
	end      time.Time
	tail     []string
}

// newStatusBoard returns a board for platforms, drawn to out, width
// columns wide.
func newStatusBoard(out io.Writer, platforms []string, width int, now func() time.Time) *statusBoard {
	if now == nil {
		now = time.Now
	}
	b := &statusBoard{out: out, now: now, width: width}
	t := now()
	for _, p := range platforms {
		b.rows = append(b.rows, boardRow{platform: p, label: "waiting", since: t, start: t})
		b.pad = max(b.pad, len(p))
	}
	return b
}

// start redraws the board every boardRefresh until stopBoard; log lines
// meanwhile print above it.
func (b *statusBoard) start() {
	b.stop, b.done = make(chan struct{}), make(chan struct{})
	b.logOut = logrus.StandardLogger().Out
	logrus.SetOutput(b)
	b.render()
	go func() {
		defer close(b.done)
		tick := time.NewTicker(boardRefresh)
		defer tick.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-tick.C:
				b.render()
			}
		}
	}()
}

// stopBoard stops redrawing and draws the final state once more; a nil
// board does nothing.
func (b *statusBoard) stopBoard() {
	if b == nil {
		return
	}
	if b.stop != nil {
		close(b.stop)
		<-b.done
		b.stop = nil
		logrus.SetOutput(b.logOut)
	}
	b.render()
}

// begin marks platform i started: it leaves the queue of --jobs.
func (b *statusBoard) begin(i int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.now()
	b.rows[i].start, b.rows[i].since, b.rows[i].label = t, t, "starting"
}

// step shows label as platform i's current step, started at since.
func (b *statusBoard) step(i int, label string, since time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rows[i].label, b.rows[i].since = label, since
}

// line keeps an output line of platform i for its failure report.
func (b *statusBoard) line(i int, l string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := &b.rows[i]
	r.tail = append(r.tail, l)
	if len(r.tail) > boardTail {
		r.tail = r.tail[len(r.tail)-boardTail:]
	}
}

// finishPlatform marks platform i done, or failed with err; a failure
// prints the platform's last output lines above the board, unless the
// build was already stopped (by another platform's failure or a signal).
// A nil board does nothing.
func (b *statusBoard) finishPlatform(i int, err error, stopped bool) {
	if b == nil {
		return
	}
	b.mu.Lock()
	r := &b.rows[i]
	r.status, r.end = "done", b.now()
	var above []string
	switch {
	case err != nil && stopped:
		r.status = "stopped"
	case err != nil:
		r.status = "failed"
		for _, l := range r.tail {
			above = append(above, "["+r.platform+"] "+l)
		}
	}
	b.mu.Unlock()
	b.printAbove(above...)
}

// Write prints whole lines of p above the board (for warnings and
// errors); a partial line is printed as a line.
func (b *statusBoard) Write(p []byte) (int, error) {
	b.printAbove(strings.Split(strings.TrimSuffix(string(p), "\n"), "\n")...)
	return len(p), nil
}

// printAbove prints lines above the board and redraws it.
func (b *statusBoard) printAbove(lines ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw(lines)
}

// render redraws the board in place.
func (b *statusBoard) render() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw(nil)
}

// draw moves up over the last drawing, prints above and then one line
// per platform, each cleared first. The caller holds mu.
func (b *statusBoard) draw(above []string) {
	var sb strings.Builder
	if b.drawn > 0 {
		fmt.Fprintf(&sb, "\x1b[%dA", b.drawn)
	}
	for _, l := range above {
		sb.WriteString("\r\x1b[2K" + l + "\n")
	}
	now := b.now()
	for _, r := range b.rows {
		sb.WriteString("\r\x1b[2K" + b.rowText(r, now) + "\n")
	}
	b.drawn = len(b.rows)
	_, _ = io.WriteString(b.out, sb.String())
}

// rowText is one platform's status line, e.g.
// "linux/arm64  [3/7] RUN make  12.4s".
func (b *statusBoard) rowText(r boardRow, now time.Time) string {
	name := r.platform + strings.Repeat(" ", b.pad-len(r.platform))
	label, elapsed := oneLine(r.label), shortDuration(now.Sub(r.since))
	if r.status != "" {
		label, elapsed = r.status, shortDuration(r.end.Sub(r.start))
	}
	return name + "  " + fit(label, b.width-len(name)-len(elapsed)-5) + "  " + elapsed
}

// fit cuts s to n runes, ending it with "…", so that no line wraps and
// the cursor moves stay right; n <= 1 leaves s as it is.
func fit(s string, n int) string {
	if n <= 1 || utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// oneLine replaces control characters, so a label stays on its line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
