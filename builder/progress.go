package builder

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// ProgressMode is how a build shows its progress (--progress).
type ProgressMode string

// Progress modes, as buildx spells them.
const (
	// ProgressAuto is ProgressPlain, or a live status line per platform
	// when Stderr is a terminal.
	ProgressAuto ProgressMode = "auto"
	// ProgressPlain writes buildah's output, every line prefixed with its
	// platform.
	ProgressPlain ProgressMode = "plain"
	// ProgressQuiet writes only the result (as Quiet).
	ProgressQuiet ProgressMode = "quiet"
)

// ParseProgress accepts auto, plain and quiet ("" is auto).
func ParseProgress(s string) (ProgressMode, error) {
	switch m := ProgressMode(strings.ToLower(s)); m {
	case "":
		return ProgressAuto, nil
	case ProgressAuto, ProgressPlain, ProgressQuiet:
		return m, nil
	}
	return "", fmt.Errorf("invalid --progress value %q: use auto, plain or quiet", s)
}

// resolveProgress reconciles Progress with Quiet, and decides whether
// auto shows live status lines: only on a terminal that can redraw.
func (o *Options) resolveProgress() error {
	m, err := ParseProgress(string(o.Progress))
	if err != nil {
		return err
	}
	if o.Quiet {
		m = ProgressQuiet
	}
	o.Progress, o.Quiet = m, m == ProgressQuiet
	o.liveStatus = m == ProgressAuto && terminalWidth(o.Stderr) > 0 && os.Getenv("TERM") != "dumb"
	return nil
}

// terminalWidth returns the width of the terminal w writes to, or 0 when
// w is not a terminal.
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
		return 0
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return 80
	}
	return int(ws.Col)
}
