package emulation

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// ReregisterError lists the handlers MountPrivate saw before mounting but
// could not register again in the private binfmt_misc. The private mount
// itself is in place, so callers may report it as a warning.
type ReregisterError struct {
	// Mount is the mount point.
	Mount string
	// Errs has one error per handler, each naming it.
	Errs []error
}

// Error implements error.
func (e *ReregisterError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return fmt.Sprintf("re-registering handlers in the private binfmt_misc at %s: %d failed: %s",
		e.Mount, len(e.Errs), strings.Join(msgs, "; "))
}

// Unwrap returns the per-handler errors.
func (e *ReregisterError) Unwrap() []error { return e.Errs }

// PrivateMount says what MountPrivateReport did with the handlers that
// were visible before it mounted the private binfmt_misc.
type PrivateMount struct {
	// Reregistered are the handlers now present that were visible before
	// (including any already in this namespace's instance).
	Reregistered []Handler
	// Skipped are the table's handlers that were visible before but left
	// out, being unfit for builds (see SkippedHandler).
	Skipped []SkippedHandler
}

// SkippedHandler is a handler MountPrivateReport left out of the private
// binfmt_misc: one of the table's qemu handlers that lacks flag P or F, or
// whose interpreter is gone. Ensure registers a fit one in its place.
type SkippedHandler struct {
	Handler Handler `json:"handler"`
	// Reason says why, e.g. `serves linux/arm64 with flags "P", builds
	// need P and F`.
	Reason string `json:"reason"`
}

// reregister registers the enabled handlers of prev at mnt, leaving out
// the unfit table handlers (see unfitReason) if skipUnfit is set. A
// handler that already exists there counts as registered.
func reregister(mnt string, prev []Handler, skipUnfit bool) (PrivateMount, error) {
	var m PrivateMount
	var errs []error
	for _, h := range prev {
		if !h.Enabled {
			continue
		}
		if why := unfitReason(h); skipUnfit && why != "" {
			m.Skipped = append(m.Skipped, SkippedHandler{Handler: h, Reason: why})
			continue
		}
		err := RegisterHandler(mnt, h)
		if err != nil && !errors.Is(err, ErrExists) {
			errs = append(errs, err)
			continue
		}
		m.Reregistered = append(m.Reregistered, h)
	}
	if len(errs) > 0 {
		return m, &ReregisterError{Mount: mnt, Errs: errs}
	}
	return m, nil
}

// unfitReason returns why h, if it is one of the table's handlers (see
// tableEmulator), cannot serve builds: it lacks flag P or F, or its
// interpreter is gone (so it cannot be registered again either). It
// returns "" for fit handlers and for handlers of other programs.
func unfitReason(h Handler) string {
	e, ok := tableEmulator(h)
	if !ok {
		return ""
	}
	plat := FormatPlatform(e.Platform)
	if !HasBuildFlags(h) {
		return fmt.Sprintf("serves %s with flags %q, builds need P and F", plat, h.Flags)
	}
	if _, err := os.Stat(h.Interpreter); errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("serves %s with interpreter %s, which is gone", plat, h.Interpreter)
	}
	return ""
}

// tableEmulator returns the table row h is the handler of: the row whose
// HandlerName h has, or else the one qemu target whose magic h has (see
// hasMagicOf). A magic matching several targets, such as a bare ELF
// header, names none.
func tableEmulator(h Handler) (Emulator, bool) {
	for _, e := range table {
		if h.Name == HandlerName(e) {
			return e, true
		}
	}
	var found []Emulator
	for _, e := range table {
		if hasMagicOf(h, e) {
			found = append(found, e)
		}
	}
	if len(found) == 0 || slices.ContainsFunc(found, func(e Emulator) bool { return e.QEMU != found[0].QEMU }) {
		return Emulator{}, false
	}
	return found[0], true
}

// hasMagicOf reports whether h is a magic handler at offset 0 whose magic
// has the length of e's and equals it under both masks (Debian's masks
// differ from QEMU's in bytes 7 and 8).
func hasMagicOf(h Handler, e Emulator) bool {
	if h.Extension != "" || h.Offset != 0 {
		return false
	}
	hm, hk, err1 := magicAndMask(h.Magic, h.Mask)
	em, ek, err2 := magicAndMask(e.Magic, e.Mask)
	if errors.Join(err1, err2) != nil || len(hm) == 0 || len(hm) != len(em) {
		return false
	}
	both := andBytes(hk, ek)
	return bytes.Equal(andBytes(hm, both), andBytes(em, both))
}

// magicAndMask decodes a \x-escaped magic and mask; an empty mask is
// 0xff for every byte of the magic, as the kernel takes it.
func magicAndMask(magic, mask string) ([]byte, []byte, error) {
	m, err := unescapeBytes(magic)
	if err != nil {
		return nil, nil, err
	}
	k, err := unescapeBytes(mask)
	if err != nil {
		return nil, nil, err
	}
	if len(k) == 0 {
		k = bytes.Repeat([]byte{0xff}, len(m))
	}
	return m, k, nil
}

// andBytes returns a & b over the shorter length.
func andBytes(a, b []byte) []byte {
	n := min(len(a), len(b))
	out := make([]byte, n)
	for i := range out {
		out[i] = a[i] & b[i]
	}
	return out
}
