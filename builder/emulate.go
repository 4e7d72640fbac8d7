package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"golang.org/x/sys/unix"
)

// binfmtMount is where binfmt_misc is mounted, on the host or privately.
const binfmtMount = "/proc/sys/fs/binfmt_misc"

// emulator is a resolved qemu handler for one foreign platform.
type emulator struct {
	Platform    specs.Platform
	Entry       emulation.Emulator
	Interpreter string
}

// prepareEmulation makes sure every platform in need can execute its RUN
// steps: it finds each qemu interpreter, registers missing handlers in
// polyarch's private binfmt_misc (or the host's, in host mode) and proves
// each one by running code of that architecture.
func prepareEmulation(ctx context.Context, o EmulationOptions, need []specs.Platform, warn io.Writer) error {
	emus, err := resolveEmulators(o, need)
	if err != nil || len(emus) == 0 {
		return err
	}
	initial, err := emulation.InitialUserNamespace()
	if err != nil {
		return fmt.Errorf("checking the user namespace: %w", err)
	}
	if !initial {
		var rerr *emulation.ReregisterError
		if _, err := emulation.MountPrivate(binfmtMount); errors.As(err, &rerr) {
			fmt.Fprintf(orDiscard(warn), "warning: some host binfmt_misc handlers are not visible to this build: %v\n", err)
		} else if err != nil {
			return fmt.Errorf("setting up private binfmt_misc: %w", err)
		}
	} else if err := ensureHostBinfmt(); err != nil {
		return err
	}
	for _, e := range emus {
		if err := ensureHandler(ctx, e); err != nil {
			return err
		}
	}
	return nil
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
			problems = append(problems, fmt.Sprintf("%s: polyarch knows no qemu emulator for this platform; build it natively on such a machine", FormatPlatform(p)))
			continue
		}
		interp, err := emulation.FindInterpreter(e, o.QEMUDir)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", FormatPlatform(p), err))
			continue
		}
		out = append(out, emulator{Platform: p, Entry: e, Interpreter: interp})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("cannot emulate the platforms whose RUN steps need it, nothing was built:\n  %s", strings.Join(problems, "\n  "))
	}
	return out, nil
}

// ensureHostBinfmt mounts the host's binfmt_misc if it is not mounted;
// only reached in host mode, as root.
func ensureHostBinfmt() error {
	if _, err := os.Stat(binfmtMount + "/register"); err == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("binfmt_misc is not mounted at %s and polyarch is not root: ask an administrator to run `sudo polyarch emulation install`", binfmtMount)
	}
	if err := unix.Mount("binfmt_misc", binfmtMount, "binfmt_misc", 0, ""); err != nil {
		return fmt.Errorf("mounting binfmt_misc at %s: %w", binfmtMount, err)
	}
	return nil
}

// ensureHandler keeps a working handler, or registers one with flags PF
// and proves it works.
func ensureHandler(ctx context.Context, e emulator) error {
	name := FormatPlatform(e.Platform)
	if emulation.Probe(ctx, e.Platform) == nil {
		return nil
	}
	err := emulation.Register(binfmtMount, e.Entry, e.Interpreter, "PF")
	if err != nil && !errors.Is(err, emulation.ErrExists) {
		return fmt.Errorf("registering qemu handler for %s: %w", name, err)
	}
	if err := emulation.Probe(ctx, e.Platform); err != nil {
		return fmt.Errorf("qemu handler %s for %s is registered but does not run %s code: %w (check that its flags include F: cat %s/%s)",
			emulation.HandlerName(e.Entry), name, e.Platform.Architecture, err, binfmtMount, emulation.HandlerName(e.Entry))
	}
	return nil
}
