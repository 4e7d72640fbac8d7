package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
)

// emulator is a resolved qemu handler for one foreign platform.
type emulator struct {
	Platform    specs.Platform
	Entry       emulation.Emulator
	Interpreter string
}

// startEmulation starts prepareEmulation for emus while the rest of the
// preflight runs (it needs neither the store nor a registry: a binfmt_misc
// mount and a qemu start per platform), and returns the function that
// waits for it and returns its error; call it on every path. In host mode,
// which changes the host, nothing starts before that call: the host is
// changed only once every other check passed.
func startEmulation(ctx context.Context, o EmulationOptions, emus []emulator, warn io.Writer) func() error {
	var once sync.Once
	var err error
	if mode, perr := emulation.ParseMode(o.Mode); perr != nil || mode == emulation.ModeHost || len(emus) == 0 {
		return func() error {
			once.Do(func() { err = prepareEmulation(ctx, o, emus, warn) })
			return err
		}
	}
	done := make(chan error, 1)
	go func() {
		defer timed("emulation", timingAll)()
		done <- prepareEmulation(ctx, o, emus, warn)
	}()
	return func() error {
		once.Do(func() { err = <-done })
		return err
	}
}

// prepareEmulation makes sure every platform in need can execute its RUN
// steps: it proves each handler by running code of that architecture, and
// registers missing ones in polyarch's private binfmt_misc (default) or,
// in host mode as root, in the host's. The emulators must have been
// resolved (interpreters found) by resolveEmulators first.
func prepareEmulation(ctx context.Context, o EmulationOptions, emus []emulator, warn io.Writer) error {
	if len(emus) == 0 {
		return nil
	}
	where, err := registrationTarget(o)
	if err != nil {
		return err
	}
	switch where {
	case targetPrivate:
		var rerr *emulation.ReregisterError
		if _, err := emulation.MountPrivate(emulation.DefaultMountPoint); errors.As(err, &rerr) {
			fmt.Fprintf(orDiscard(warn), "warning: some host binfmt_misc handlers are not visible to this build: %v\n", err)
		} else if err != nil {
			return fmt.Errorf("setting up private binfmt_misc: %w", err)
		}
	case targetHost:
		if err := ensureHostBinfmt(); err != nil {
			return err
		}
	}
	// Each platform's handler is proved (a qemu start, ~40 ms) at the
	// same time as the others'; the first failure in request order is
	// reported, as when they ran one after the other.
	errs := make([]error, len(emus))
	var wg sync.WaitGroup
	for i, e := range emus {
		wg.Go(func() { errs[i] = ensureHandler(ctx, e, o.QEMUDir, where != targetNone) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// target says where missing handlers can be registered.
type target int

const (
	targetNone    target = iota // nowhere: only existing handlers can serve
	targetPrivate               // polyarch's own binfmt_misc
	targetHost                  // the host's binfmt_misc (root, host mode)
)

// registrationTarget decides where handlers go from the mode, the user
// namespace this process runs in and the kernel's support.
func registrationTarget(o EmulationOptions) (target, error) {
	mode, err := emulation.ParseMode(o.Mode)
	if err != nil {
		return targetNone, err
	}
	initial, err := emulation.InitialUserNamespace()
	if err != nil {
		return targetNone, fmt.Errorf("checking the user namespace: %w", err)
	}
	supported, _ := emulation.PrivateSupported()
	switch {
	case mode != emulation.ModeHost && !initial && supported:
		return targetPrivate, nil
	case mode == emulation.ModeHost && initial && os.Geteuid() == 0:
		return targetHost, nil
	}
	// A build changes the host only when asked (--emulation=host): in
	// any other case only handlers that already work can serve.
	return targetNone, nil
}

// resolveEmulators finds the table entry and interpreter of every
// non-native platform, reporting all problems at once.
func resolveEmulators(o EmulationOptions, need []specs.Platform) ([]emulator, error) {
	var out []emulator
	var problems []string
	for _, p := range need {
		if emulation.Native(p) {
			continue
		}
		e, ok := emulation.Lookup(p)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: polyarch knows no qemu emulator for this platform; build it natively on such a machine", emulation.FormatPlatform(p)))
			continue
		}
		interp, err := emulation.FindInterpreter(e, o.QEMUDir)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", emulation.FormatPlatform(p), err))
			continue
		}
		out = append(out, emulator{Platform: p, Entry: e, Interpreter: interp})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("cannot emulate the platforms whose RUN steps need it, nothing was built:\n  %s", strings.Join(problems, "\n  "))
	}
	return out, nil
}

// ensureHostBinfmt mounts the host's binfmt_misc if it is not mounted,
// as `polyarch emulation install` does (emulation.MountHost); only
// reached in host mode, as root.
func ensureHostBinfmt() error {
	_, err := emulation.MountHost(emulation.DefaultMountPoint)
	return err
}

// ensureHandler keeps a working handler, or registers one with flags PF
// if it may. A handler that exists but is unfit (disabled, lacking P or F,
// failing its probe) is reported with its fix, never replaced.
func ensureHandler(ctx context.Context, e emulator, qemuDir string, mayRegister bool) error {
	name := emulation.FormatPlatform(e.Platform)
	if !mayRegister {
		err := emulation.Probe(ctx, e.Platform)
		if err == nil {
			return nil
		}
		return fmt.Errorf("no working qemu handler for %s, and polyarch cannot register one here (this kernel has no private binfmt_misc, or --emulation=host without root): ask an administrator to run `sudo polyarch emulation install %s` once, or install qemu-user-static with its binfmt support: %w", name, name, err)
	}
	if _, _, err := emulation.Ensure(ctx, emulation.DefaultMountPoint, e.Entry, qemuDir); err != nil {
		return fmt.Errorf("[%s] %w", name, err)
	}
	return nil
}
