package emulation

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// UninstallOptions configures Uninstall. Zero values mean the documented
// defaults.
type UninstallOptions struct {
	// Platforms whose qemu handlers are removed, in the order results are
	// wanted.
	Platforms []specs.Platform
	// MountPoint of binfmt_misc; default DefaultMountPoint.
	MountPoint string
	// Conf selects the directory of polyarch's binfmt.d files.
	Conf ConfOptions
}

// UninstallStatus says what Uninstall did for one platform.
type UninstallStatus string

const (
	// UninstallRemoved means the handler was unregistered.
	UninstallRemoved UninstallStatus = "removed"
	// UninstallNotRegistered means there was no such handler (or no
	// binfmt_misc mounted).
	UninstallNotRegistered UninstallStatus = "not-registered"
	// UninstallNative means the platform runs without emulation.
	UninstallNative UninstallStatus = "native"
	// UninstallFailed means removing the handler or its file failed.
	UninstallFailed UninstallStatus = "failed"
)

// UninstallResult reports, for one platform, what Uninstall did.
type UninstallResult struct {
	Platform specs.Platform  `json:"platform"`
	Status   UninstallStatus `json:"status"`
	Handler  string          `json:"handler,omitempty"`
	// Conf is the binfmt.d file of polyarch's that was removed, if any.
	Conf string `json:"conf,omitempty"`
	Err  error  `json:"-"`
}

// Uninstall removes the qemu handler of every platform in opts.Platforms,
// by its table name HandlerName (so handlers of other programs are never
// touched), and the binfmt.d file polyarch wrote for it (see Unpersist).
// Platforms sharing a handler (arm/v5, v6, v7) get the same result. It
// goes through every platform and returns one result each, in order, plus
// an error joining every failure, each starting with the platform.
func Uninstall(opts UninstallOptions) ([]UninstallResult, error) {
	if opts.MountPoint == "" {
		opts.MountPoint = DefaultMountPoint
	}
	done := map[string]UninstallResult{}
	results := make([]UninstallResult, 0, len(opts.Platforms))
	var errs []error
	for _, p := range opts.Platforms {
		p = normalize(p)
		r, ok := done[handlerKey(p)]
		if !ok {
			r = uninstallOne(opts, p)
			done[handlerKey(p)] = r
		}
		r.Platform = p
		if r.Err != nil && !ok {
			errs = append(errs, fmt.Errorf("[%s] %w", PlatformString(p), r.Err))
		}
		results = append(results, r)
	}
	return results, errors.Join(errs...)
}

// handlerKey names the handler a platform needs, or the platform itself if
// it is native or unknown.
func handlerKey(p specs.Platform) string {
	if e, ok := Lookup(p); ok && !Native(p) {
		return HandlerName(e)
	}
	return PlatformString(p)
}

// uninstallOne removes the handler and file of one normalised platform.
func uninstallOne(opts UninstallOptions, p specs.Platform) UninstallResult {
	r := UninstallResult{Platform: p, Status: UninstallNative}
	if Native(p) {
		return r
	}
	e, ok := Lookup(p)
	if !ok {
		r.Status, r.Err = UninstallFailed, fmt.Errorf("uninstalling emulation for %s: no emulator for this platform: "+
			"supported platforms are %s", PlatformString(p), supported())
		return r
	}
	r.Handler, r.Status = HandlerName(e), UninstallRemoved
	err := Unregister(opts.MountPoint, r.Handler)
	switch {
	case errors.Is(err, ErrNotRegistered), errors.Is(err, ErrNotMounted):
		r.Status = UninstallNotRegistered
	case err != nil:
		r.Status, r.Err = UninstallFailed, err
	}
	conf, err := Unpersist(e, opts.Conf)
	if err != nil {
		r.Status, r.Err = UninstallFailed, errors.Join(r.Err, err)
	}
	r.Conf = conf
	return r
}
