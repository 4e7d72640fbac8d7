package emulation

import (
	"context"
	"errors"
	"fmt"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// InstallOptions configures Install. Zero values mean the documented
// defaults.
type InstallOptions struct {
	// Platforms to make runnable, in the order results are wanted.
	Platforms []specs.Platform
	// MountPoint of binfmt_misc; default DefaultMountPoint. It must already
	// be mounted (see MountPrivate for private mode).
	MountPoint string
	// QEMUDir is passed to FindInterpreter; default: $POLYARCH_QEMU_DIR,
	// then the standard places.
	QEMUDir string
	// Flags for new handlers; default DefaultFlags ("PF").
	Flags string
}

// InstallStatus says what Install did for one platform.
type InstallStatus string

const (
	// StatusNative means the host runs the platform without emulation.
	StatusNative InstallStatus = "native"
	// StatusRegistered means Install registered the handler.
	StatusRegistered InstallStatus = "registered"
	// StatusExisting means a handler of that name was already registered.
	StatusExisting InstallStatus = "already-registered"
)

// InstallResult reports, for one platform, what Install did.
type InstallResult struct {
	Platform    specs.Platform `json:"platform"`
	Status      InstallStatus  `json:"status"`
	Handler     string         `json:"handler,omitempty"`
	Interpreter string         `json:"interpreter,omitempty"`
}

// Install registers, in the binfmt_misc at opts.MountPoint, the qemu
// handler for every non-native platform that lacks one, then probes each
// platform. It stops at the first failure; the error starts with the
// platform, e.g. "[linux/arm64]". Results are in the order of
// opts.Platforms.
func Install(ctx context.Context, opts InstallOptions) ([]InstallResult, error) {
	if opts.MountPoint == "" {
		opts.MountPoint = DefaultMountPoint
	}
	if opts.Flags == "" {
		opts.Flags = DefaultFlags
	}
	results := make([]InstallResult, 0, len(opts.Platforms))
	for _, p := range opts.Platforms {
		r, err := installOne(ctx, opts, normalize(p))
		if err != nil {
			return results, fmt.Errorf("[%s] %w", PlatformString(normalize(p)), err)
		}
		results = append(results, r)
	}
	return results, nil
}

func installOne(ctx context.Context, opts InstallOptions, p specs.Platform) (InstallResult, error) {
	r := InstallResult{Platform: p, Status: StatusNative}
	if Native(p) {
		return r, nil
	}
	e, ok := Lookup(p)
	if !ok {
		return r, fmt.Errorf("installing emulation: no emulator for %s: supported platforms are %s",
			PlatformString(p), supported())
	}
	r.Handler = HandlerName(e)
	interp, err := FindInterpreter(e, opts.QEMUDir)
	if err != nil {
		return r, err
	}
	r.Interpreter, r.Status = interp, StatusRegistered
	err = Register(opts.MountPoint, e, interp, opts.Flags)
	if errors.Is(err, ErrExists) {
		r.Status = StatusExisting
		if h, herr := ReadHandler(opts.MountPoint, r.Handler); herr == nil {
			r.Interpreter = h.Interpreter
		}
	} else if err != nil {
		return r, err
	}
	return r, Probe(ctx, p)
}
