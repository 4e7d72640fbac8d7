package builder

import (
	"bytes"
	"io"
	"sync"
)

// lockedWriter serialises writes of several platforms to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write writes p under the lock.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// prefixWriter writes whole lines to out, each starting with prefix.
// Partial lines are held until their newline or Flush.
type prefixWriter struct {
	mu     sync.Mutex
	out    io.Writer
	prefix []byte
	buf    []byte
}

// newPrefixWriter returns a writer prefixing each line with "[platform] ".
// A nil out gives io.Discard.
func newPrefixWriter(out io.Writer, platform string) *prefixWriter {
	if out == nil {
		out = io.Discard
	}
	return &prefixWriter{out: out, prefix: []byte("[" + platform + "] ")}
}

// Write buffers p and writes every complete line with the prefix.
func (w *prefixWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := append(append([]byte{}, w.prefix...), w.buf[:i+1]...)
		w.buf = w.buf[i+1:]
		if _, err := w.out.Write(line); err != nil {
			return len(p), err
		}
	}
}

// Flush writes a held partial line, ending it with a newline.
func (w *prefixWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		line := append(append(append([]byte{}, w.prefix...), w.buf...), '\n')
		_, _ = w.out.Write(line)
		w.buf = nil
	}
}

// orDiscard returns w, or io.Discard for nil.
func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
