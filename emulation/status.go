package emulation

import (
	"context"
	"fmt"
)

// Where says where the handler serving a platform is registered.
type Where string

const (
	// WhereNative means the platform runs without emulation.
	WhereNative Where = "native"
	// WhereHost means a handler in the host's binfmt_misc serves it; builds
	// see it in every mode (private mode re-registers host handlers, except
	// the table's handlers unfit for builds, see MountPrivateReport).
	WhereHost Where = "host"
	// WherePrivate means no fit host handler serves it (none, or one that
	// private mode leaves out), but polyarch registers one in its own user
	// namespace, as builds in private mode do.
	WherePrivate Where = "private"
	// WhereNone means nothing serves it.
	WhereNone Where = "none"
)

// ProbeResult is the outcome of executing a platform's probe program.
type ProbeResult string

const (
	// ProbeOK means the probe ran and printed what it should.
	ProbeOK ProbeResult = "ok"
	// ProbeFailed means it did not; the matching error field says why.
	ProbeFailed ProbeResult = "fail"
	// ProbeSkipped means it was not run (private mode unavailable).
	ProbeSkipped ProbeResult = "-"
)

// StatusOptions configures Status. Zero values mean the documented
// defaults.
type StatusOptions struct {
	// MountPoint of the host's binfmt_misc; default DefaultMountPoint.
	MountPoint string
	// QEMUDir is passed to FindInterpreter.
	QEMUDir string
	// NoPrivate skips the check in a private namespace.
	NoPrivate bool
}

// Report is what Status found. Supported and Emulators are shaped like
// the output of tonistiigi/binfmt.
type Report struct {
	// Supported lists the platforms builds can run here, in table order:
	// natives, and foreign platforms whose handler has the flags P and F
	// and passed its probe (in polyarch's own namespace when private mode
	// was checked, else on the host).
	Supported []string `json:"supported"`
	// Emulators lists the names of every handler in the host's binfmt_misc.
	Emulators []string         `json:"emulators"`
	Host      HostReport       `json:"host"`
	Private   PrivateReport    `json:"private"`
	Platforms []PlatformStatus `json:"platforms"`
}

// HostReport describes the host's binfmt_misc.
type HostReport struct {
	MountPoint string    `json:"mountPoint"`
	Mounted    bool      `json:"mounted"`
	Handlers   []Handler `json:"handlers"`
	Error      string    `json:"error,omitempty"`
}

// PrivateReport describes private mode.
type PrivateReport struct {
	// Supported and Reason are PrivateSupported's answer.
	Supported bool   `json:"supported"`
	Reason    string `json:"reason,omitempty"`
	// Checked is true when Status ran its check in a private namespace.
	Checked bool `json:"checked"`
	// Reregistered names the host handlers MountPrivate copied there.
	Reregistered []string `json:"reregistered"`
	// Skipped are the host handlers it left out as unfit for builds;
	// polyarch registers fit ones in their place.
	Skipped []SkippedHandler `json:"skipped"`
	// Error is set when the check could not run or was incomplete.
	Error string `json:"error,omitempty"`
}

// PlatformStatus is one table row's status.
type PlatformStatus struct {
	Platform string `json:"platform"`
	Native   bool   `json:"native"`
	// Interpreter is the qemu-user-static binary polyarch would register,
	// or empty with InterpreterError set.
	Interpreter      string `json:"interpreter,omitempty"`
	InterpreterError string `json:"interpreterError,omitempty"`
	Registered       Where  `json:"registered"`
	// Handler and Flags describe the handler serving the platform.
	Handler      string      `json:"handler,omitempty"`
	Flags        string      `json:"flags,omitempty"`
	HostProbe    ProbeResult `json:"hostProbe"`
	HostError    string      `json:"hostError,omitempty"`
	PrivateProbe ProbeResult `json:"privateProbe"`
	PrivateError string      `json:"privateError,omitempty"`
	// Problem says why builds cannot run the platform, and what to do.
	Problem string `json:"problem,omitempty"`
}

// Status reports, for every row of the table, whether builds can run it
// and through which handler. It reads the host's binfmt_misc and probes
// each platform there by execution. Then, unless opts.NoPrivate is set or
// private mode is unavailable, it re-executes itself in a new user and
// mount namespace (see RegisterPrivateCheck) and does what a build in
// private mode does: MountPrivate, then Ensure and probe every platform.
// Nothing outside that namespace changes.
func Status(ctx context.Context, opts StatusOptions) (*Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.MountPoint == "" {
		opts.MountPoint = DefaultMountPoint
	}
	r := &Report{Host: readHost(opts.MountPoint), Emulators: []string{}, Supported: []string{}}
	for _, h := range r.Host.Handlers {
		r.Emulators = append(r.Emulators, h.Name)
	}
	for _, e := range table {
		r.Platforms = append(r.Platforms, hostRow(ctx, e, r.Host.Handlers, opts.QEMUDir))
	}
	r.Private.Supported, r.Private.Reason = PrivateSupported()
	r.Private.Reregistered, r.Private.Skipped = []string{}, []SkippedHandler{}
	if r.Private.Supported && !opts.NoPrivate {
		out, err := runPrivateCheck(ctx, opts.MountPoint, opts.QEMUDir)
		if err != nil {
			r.Private.Error = err.Error()
		} else {
			r.Private.Checked, r.Private.Error = len(out.Rows) > 0, out.Error
			r.Private.Reregistered = append(r.Private.Reregistered, out.Reregistered...)
			r.Private.Skipped = append(r.Private.Skipped, out.Skipped...)
			mergePrivate(r.Platforms, out.Rows)
		}
	}
	for i, e := range table {
		if r.Platforms[i].finish(e, opts.MountPoint, r.Private.Checked) {
			r.Supported = append(r.Supported, r.Platforms[i].Platform)
		}
	}
	return r, nil
}

// readHost reads the host's binfmt_misc at mnt.
func readHost(mnt string) HostReport {
	h := HostReport{MountPoint: mnt, Handlers: []Handler{}}
	var err error
	if h.Mounted, err = Mounted(mnt); err != nil || !h.Mounted {
		if err != nil {
			h.Error = err.Error()
		}
		return h
	}
	hs, err := ReadHandlers(mnt)
	if err != nil {
		h.Error = err.Error()
	}
	h.Handlers = append(h.Handlers, hs...)
	return h
}

// hostRow fills what the host tells about e.
func hostRow(ctx context.Context, e Emulator, hs []Handler, qemuDir string) PlatformStatus {
	s := PlatformStatus{Platform: FormatPlatform(e.Platform), Native: Native(e.Platform), Registered: WhereNative,
		HostProbe: ProbeOK, PrivateProbe: ProbeSkipped}
	if err := probeEmulator(ctx, e); err != nil {
		s.HostProbe, s.HostError = ProbeFailed, err.Error()
	}
	if s.Native {
		return s
	}
	s.Registered = WhereNone
	if interp, err := FindInterpreter(e, qemuDir); err != nil {
		s.InterpreterError = err.Error()
	} else {
		s.Interpreter = interp
	}
	if h, ok := servingHandler(hs, e); ok {
		s.Registered, s.Handler, s.Flags = WhereHost, h.Name, h.Flags
		if !h.Enabled {
			s.Flags = "disabled"
		}
	}
	return s
}

// mergePrivate adds the private namespace's findings to the rows.
func mergePrivate(rows []PlatformStatus, priv []privateRow) {
	byPlatform := map[string]privateRow{}
	for _, p := range priv {
		byPlatform[p.Platform] = p
	}
	for i := range rows {
		p, ok := byPlatform[rows[i].Platform]
		if !ok {
			continue
		}
		rows[i].PrivateProbe, rows[i].PrivateError, rows[i].Problem = ProbeOK, p.ProbeError, p.EnsureError
		if p.ProbeError != "" {
			rows[i].PrivateProbe = ProbeFailed
		}
		if p.Private { // none on the host, or one MountPrivateReport left out
			rows[i].Registered, rows[i].Handler, rows[i].Flags = WherePrivate, p.Handler.Name, p.Handler.Flags
		}
	}
}

// finish sets Problem and reports whether builds can run the platform. mnt
// is the host's mount point, for hints.
func (s *PlatformStatus) finish(e Emulator, mnt string, privateChecked bool) bool {
	probe, probeErr := s.HostProbe, s.HostError
	if privateChecked {
		probe, probeErr = s.PrivateProbe, s.PrivateError
	}
	switch {
	case s.Problem != "":
	case probe != ProbeOK && s.Registered == WhereNone && s.InterpreterError != "":
		s.Problem = s.InterpreterError
	case probe != ProbeOK:
		s.Problem = probeErr
	case !s.Native && !HasBuildFlags(Handler{Flags: s.Flags}):
		hint := fixHint(mnt, Handler{Name: s.Handler, Flags: s.Flags}, e, DefaultFlags)
		s.Problem = fmt.Sprintf("handler %s has flags %q, builds need P and F (F opens the interpreter at "+
			"registration so it works inside build roots): %s", s.Handler, s.Flags, hint)
	}
	return s.Problem == ""
}
