package emulation

import (
	"errors"
	"fmt"
	"path/filepath"

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
	// Flags polyarch registered its handlers with (InstallOptions.Flags);
	// default DefaultFlags. Handlers with other flags are not polyarch's.
	Flags string
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
	// UninstallKept means a handler of that name is registered, but not
	// by polyarch (see Uninstall), so it was left; Note says how to remove
	// it.
	UninstallKept UninstallStatus = "kept"
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
	// Note explains a kept handler.
	Note string `json:"note,omitempty"`
	Err  error  `json:"-"`
}

// Uninstall removes the qemu handler of every platform in opts.Platforms
// that polyarch registered, and the binfmt.d file polyarch wrote for it
// (see Unpersist). A handler counts as polyarch's when it has the table's
// name HandlerName, exactly the flags polyarch registers with (opts.Flags,
// "PF" by default) and an interpreter polyarch looks for (see
// registeredByPolyarch): what Install and polyarch's binfmt.d files
// register. Others, such as the qemu-* handlers Debian's qemu-user-static
// has systemd-binfmt register (flags "POF", interpreters in
// /usr/libexec/qemu-binfmt), are kept and reported with how to remove
// them; handlers of other programs are never touched. Platforms sharing a
// handler (arm/v5, v6, v7) get the same result. It goes through every
// platform and returns one result each, in order, plus an error joining
// every failure, each starting with the platform.
func Uninstall(opts UninstallOptions) ([]UninstallResult, error) {
	if opts.MountPoint == "" {
		opts.MountPoint = DefaultMountPoint
	}
	if opts.Flags == "" {
		opts.Flags = DefaultFlags
	}
	done := map[string]UninstallResult{}
	results := make([]UninstallResult, 0, len(opts.Platforms))
	var errs []error
	for _, p := range opts.Platforms {
		p = NormalizePlatform(p)
		r, ok := done[handlerKey(p)]
		if !ok {
			r = uninstallOne(opts, p)
			done[handlerKey(p)] = r
		}
		r.Platform = p
		if r.Err != nil && !ok {
			errs = append(errs, fmt.Errorf("[%s] %w", FormatPlatform(p), r.Err))
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
	return FormatPlatform(p)
}

// uninstallOne removes the handler and file of one normalised platform.
func uninstallOne(opts UninstallOptions, p specs.Platform) UninstallResult {
	r := UninstallResult{Platform: p, Status: UninstallNative}
	e, ok := Lookup(p)
	if Native(p) && !(ok && hasHandler(opts.MountPoint, e)) {
		return r // a native platform's handler is removed only if present (e.g. qemu-i386 from a kernel without IA32)
	}
	if !ok {
		r.Status, r.Err = UninstallFailed, fmt.Errorf("uninstalling emulation for %s: no emulator for this platform: "+
			"supported platforms are %s", FormatPlatform(p), supported())
		return r
	}
	r.Handler = HandlerName(e)
	r.Status, r.Note, r.Err = unregisterOurs(opts, e)
	conf, err := Unpersist(e, opts.Conf)
	if err != nil {
		r.Status, r.Err = UninstallFailed, errors.Join(r.Err, err)
	}
	r.Conf = conf
	return r
}

// unregisterOurs removes e's handler if polyarch registered it, and says
// what it did.
func unregisterOurs(opts UninstallOptions, e Emulator) (UninstallStatus, string, error) {
	name := HandlerName(e)
	h, err := ReadHandler(opts.MountPoint, name)
	if err == nil && !registeredByPolyarch(h, e, opts.Flags) {
		return UninstallKept, keptNote(opts, h), nil
	}
	if err == nil {
		err = Unregister(opts.MountPoint, name)
	}
	switch {
	case errors.Is(err, ErrNotRegistered), errors.Is(err, ErrNotMounted):
		return UninstallNotRegistered, "", nil
	case err != nil:
		return UninstallFailed, "", err
	}
	return UninstallRemoved, "", nil
}

// keptNote says why h was kept and how to remove it.
func keptNote(opts UninstallOptions, h Handler) string {
	note := fmt.Sprintf("%s (interpreter %s, flags %q) was not registered by polyarch, which registers qemu-*-static "+
		"with flags %q; remove it with `echo -1 > %s`", h.Name, h.Interpreter, h.Flags, opts.Flags,
		filepath.Join(opts.MountPoint, h.Name))
	if conf, err := definingConf(opts.Conf.withDefaults().SearchDirs, h.Name, ""); err == nil && conf != "" {
		note += fmt.Sprintf(" (%s defines it, so systemd-binfmt registers it again at boot)", conf)
	}
	return note
}

// registeredByPolyarch reports whether h looks like e's handler as polyarch
// registers it: exactly the given flags (whatever their order) and an
// interpreter FindInterpreter looks for, qemu-<QEMU>-static or
// qemu-<QEMU> in any directory (--qemu-dir, /usr/bin, $PATH), or
// /usr/libexec/qemu-binfmt/<QEMU>-binfmt-P. Polyarch keeps no record of
// what it registered, so a handler made the same way by hand counts too.
func registeredByPolyarch(h Handler, e Emulator, flags string) bool {
	base := filepath.Base(h.Interpreter)
	interp := base == "qemu-"+e.QEMU+"-static" || base == "qemu-"+e.QEMU ||
		h.Interpreter == filepath.Join(defaultQEMULibexec, e.QEMU+"-binfmt-P")
	return interp && len(h.Flags) == len(flags) && hasFlags(h, flags)
}

// hasHandler reports whether e's handler is registered at mnt.
func hasHandler(mnt string, e Emulator) bool {
	_, err := ReadHandler(mnt, HandlerName(e))
	return err == nil
}
