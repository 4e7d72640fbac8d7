package emulation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// ErrUnfit is returned (wrapped) by Ensure when an existing handler serves
// a platform but cannot serve builds: it is disabled, lacks flag P or F,
// or fails its probe. Ensure never replaces such a handler; in private
// mode MountPrivateReport leaves the table's unfit host handlers out of
// polyarch's own binfmt_misc, so Ensure registers fit ones there instead.
var ErrUnfit = errors.New("existing handler is unfit for builds")

// Ensure makes e's platform runnable through the binfmt_misc mounted at mnt,
// the way builds need it. An existing handler for e (named HandlerName(e),
// or any enabled handler whose magic matches e's programs) is kept when it
// is enabled, has the flags P and F and passes Probe; otherwise the error
// wraps ErrUnfit and says how to fix it. Without a handler, Ensure finds
// the interpreter (FindInterpreter with qemuDir), registers e's handler
// with DefaultFlags and probes it, unregistering it again if the probe
// fails. It returns the serving handler and whether Ensure registered it.
// Native platforms need nothing: Ensure returns a zero Handler and nil.
func Ensure(ctx context.Context, mnt string, e Emulator, qemuDir string) (Handler, bool, error) {
	return ensure(ctx, mnt, e, qemuDir, DefaultFlags)
}

// ensure is Ensure with the flags new handlers get and existing ones need
// (empty means DefaultFlags).
func ensure(ctx context.Context, mnt string, e Emulator, qemuDir, flags string) (Handler, bool, error) {
	if flags == "" {
		flags = DefaultFlags
	}
	if Native(e.Platform) {
		return Handler{}, false, nil
	}
	hs, err := ReadHandlers(mnt)
	if err != nil {
		return Handler{}, false, err
	}
	if h, ok := servingHandler(hs, e); ok {
		return h, false, checkExisting(ctx, mnt, h, e, flags)
	}
	interp, err := FindInterpreter(e, qemuDir)
	if err != nil {
		return Handler{}, false, err
	}
	err = Register(mnt, e, interp, flags)
	if errors.Is(err, ErrExists) { // registered meanwhile by someone else
		h, rerr := ReadHandler(mnt, HandlerName(e))
		if rerr != nil {
			return Handler{}, false, errors.Join(err, rerr)
		}
		return h, false, checkExisting(ctx, mnt, h, e, flags)
	}
	if err != nil {
		return Handler{}, false, err
	}
	if err := probeEmulator(ctx, e); err != nil {
		uerr := Unregister(mnt, HandlerName(e))
		return Handler{}, false, errors.Join(fmt.Errorf("registered %s with %s but it does not run %s code, "+
			"so it was removed again: %w", HandlerName(e), interp, FormatPlatform(e.Platform), err), uerr)
	}
	h, err := ReadHandler(mnt, HandlerName(e))
	return h, true, err
}

// checkExisting returns nil if h can serve builds of e's platform: enabled,
// with every one of flags, and passing the probe.
func checkExisting(ctx context.Context, mnt string, h Handler, e Emulator, flags string) error {
	plat := FormatPlatform(e.Platform)
	switch {
	case !h.Enabled:
		return fmt.Errorf("%w: handler %s for %s is disabled: %s", ErrUnfit, h.Name, plat, fixHint(mnt, h, e, flags))
	case !hasFlags(h, flags):
		return fmt.Errorf("%w: handler %s for %s has flags %q, builds need %s (F opens the interpreter "+
			"at registration so it works inside build roots, P keeps argv[0] for busybox): %s",
			ErrUnfit, h.Name, plat, h.Flags, flags, fixHint(mnt, h, e, flags))
	}
	if err := probeEmulator(ctx, e); err != nil {
		return fmt.Errorf("%w: handler %s for %s (interpreter %s) does not run %s code: %w: %s",
			ErrUnfit, h.Name, plat, h.Interpreter, e.Platform.Architecture, err, fixHint(mnt, h, e, flags))
	}
	return nil
}

// HasBuildFlags reports whether h has the flags builds need: P and F.
func HasBuildFlags(h Handler) bool {
	return hasFlags(h, DefaultFlags)
}

// hasFlags reports whether h has every flag in flags.
func hasFlags(h Handler, flags string) bool {
	for _, f := range flags {
		if !strings.ContainsRune(h.Flags, f) {
			return false
		}
	}
	return true
}

// fixHint says how to replace an unfit handler h serving e; flags are
// the ones polyarch registers with (see registeredByPolyarch).
func fixHint(mnt string, h Handler, e Emulator, flags string) string {
	plat := FormatPlatform(e.Platform)
	if h.Name == HandlerName(e) && registeredByPolyarch(h, e, flags) {
		return fmt.Sprintf("replace it: run `sudo polyarch emulation uninstall %s` then `sudo polyarch emulation install %s`",
			plat, plat)
	}
	return fmt.Sprintf("it was not registered by polyarch, so polyarch leaves it alone: remove it "+
		"(echo -1 | sudo tee %s) then run `sudo polyarch emulation install %s`", filepath.Join(mnt, h.Name), plat)
}

// servingHandler returns the handler called HandlerName(e), whatever its
// state, or else the first enabled handler that matches e's programs.
func servingHandler(hs []Handler, e Emulator) (Handler, bool) {
	for _, h := range hs {
		if h.Name == HandlerName(e) {
			return h, true
		}
	}
	for _, h := range hs {
		if h.Enabled && Serves(h, e) {
			return h, true
		}
	}
	return Handler{}, false
}

// Serves reports whether the kernel would hand e's executables to h: h is
// a magic handler whose magic, under its mask, matches the header of e's
// probe program (an ELF executable of e's architecture).
func Serves(h Handler, e Emulator) bool {
	if h.Extension != "" {
		return false
	}
	sample, err1 := probeELF(e)
	magic, mask, err2 := magicAndMask(h.Magic, h.Mask)
	if errors.Join(err1, err2) != nil || len(magic) == 0 || h.Offset+len(magic) > len(sample) {
		return false
	}
	data := sample[h.Offset : h.Offset+len(magic)]
	return bytes.Equal(andBytes(data, mask), andBytes(magic, mask))
}
