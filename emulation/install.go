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
	// be mounted (see MountHost, and MountPrivate for private mode).
	MountPoint string
	// QEMUDir is passed to FindInterpreter; default: $POLYARCH_QEMU_DIR,
	// then the standard places.
	QEMUDir string
	// Flags for new handlers; default DefaultFlags ("PF").
	Flags string
	// Persist writes a binfmt.d(5) file per handler (see Persist), so
	// systemd-binfmt registers it again at boot.
	Persist bool
	// Conf selects the binfmt.d directories for Persist.
	Conf ConfOptions
}

// InstallStatus says what Install did for one platform.
type InstallStatus string

const (
	// StatusNative means the host runs the platform without emulation.
	StatusNative InstallStatus = "native"
	// StatusRegistered means Install registered the handler.
	StatusRegistered InstallStatus = "registered"
	// StatusExisting means a working handler was already registered and
	// was kept.
	StatusExisting InstallStatus = "already-registered"
	// StatusFailed means the platform cannot run; Err says why.
	StatusFailed InstallStatus = "failed"
)

// InstallResult reports, for one platform, what Install did.
type InstallResult struct {
	Platform    specs.Platform `json:"platform"`
	Status      InstallStatus  `json:"status"`
	Handler     string         `json:"handler,omitempty"`
	Interpreter string         `json:"interpreter,omitempty"`
	Flags       string         `json:"flags,omitempty"`
	// Persisted is the binfmt.d file that registers the handler at boot,
	// when InstallOptions.Persist was set and it succeeded.
	Persisted string `json:"persisted,omitempty"`
	// Err is set when Status is StatusFailed, or when persisting failed.
	Err error `json:"-"`
}

// Install makes every platform of opts.Platforms runnable through the
// binfmt_misc at opts.MountPoint: natives need nothing, a working handler
// is kept, and a missing one is registered with opts.Flags and probed (see
// Ensure). It goes through every platform even after a failure, and
// returns one result per platform in order, plus an error joining every
// failure, each starting with the platform, e.g. "[linux/arm64]".
func Install(ctx context.Context, opts InstallOptions) ([]InstallResult, error) {
	if opts.MountPoint == "" {
		opts.MountPoint = DefaultMountPoint
	}
	results := make([]InstallResult, 0, len(opts.Platforms))
	var errs []error
	for _, p := range opts.Platforms {
		r := installOne(ctx, opts, NormalizePlatform(p))
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("[%s] %w", FormatPlatform(r.Platform), r.Err))
		}
		results = append(results, r)
	}
	return results, errors.Join(errs...)
}

// installOne installs the handler of one normalised platform.
func installOne(ctx context.Context, opts InstallOptions, p specs.Platform) InstallResult {
	r := InstallResult{Platform: p, Status: StatusNative}
	if Native(p) {
		return r
	}
	e, ok := Lookup(p)
	if !ok {
		r.Status, r.Err = StatusFailed, fmt.Errorf("installing emulation for %s: no emulator for this platform: "+
			"supported platforms are %s", FormatPlatform(p), supported())
		return r
	}
	r.Handler = HandlerName(e)
	h, registered, err := ensure(ctx, opts.MountPoint, e, opts.QEMUDir, opts.Flags)
	if h.Name != "" {
		r.Handler, r.Interpreter, r.Flags = h.Name, h.Interpreter, h.Flags
	}
	if err != nil {
		r.Status, r.Err = StatusFailed, err
		return r
	}
	r.Status = StatusExisting
	if registered {
		r.Status = StatusRegistered
	}
	if opts.Persist {
		r.Persisted, r.Err = Persist(e, opts.QEMUDir, opts.Conf)
	}
	return r
}
