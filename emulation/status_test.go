package emulation

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

func init() { helpers["status"] = helperStatus }

// TestStatusInNamespace runs Status in a namespace that plays the host:
// its own binfmt_misc holds a good arm64 handler, an unfit ppc64le one,
// an unfit s390x one under another name and a foreign handler. Status's
// private check then runs one namespace further down, as it would under
// the real host, and replaces both unfit handlers there.
func TestStatusInNamespace(t *testing.T) { testInNamespace(t, "status") }

func helperStatus() error {
	mnt := DefaultMountPoint
	if err := mountFresh(mnt); err != nil {
		return err
	}
	if err := registerQEMU(mnt, "linux/arm64"); err != nil {
		return err
	}
	for _, h := range []Handler{dummyExt, unfitPPC(), unfitS390x()} {
		if err := RegisterHandler(mnt, h); err != nil {
			return err
		}
	}
	r, err := Status(context.Background(), StatusOptions{})
	if err != nil {
		return err
	}
	if err := checkStatusReport(r); err != nil {
		return err
	}
	empty, err := os.MkdirTemp("", "polyarch-empty-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(empty)
	r, err = Status(context.Background(), StatusOptions{QEMUDir: empty})
	if err != nil {
		return err
	}
	return checkEmptyQEMUDir(r, empty)
}

// statusRow returns the row of platform p.
func statusRow(r *Report, p string) PlatformStatus {
	i := slices.IndexFunc(r.Platforms, func(s PlatformStatus) bool { return s.Platform == p })
	if i < 0 {
		return PlatformStatus{}
	}
	return r.Platforms[i]
}

// unfitS390x serves s390x under a name of its own, without flags.
func unfitS390x() Handler {
	e := lookup("linux/s390x")
	return Handler{Name: "polyarch-test-s390x", Interpreter: "/usr/bin/qemu-s390x-static", Magic: e.Magic, Mask: e.Mask}
}

func checkStatusReport(r *Report) error {
	want := []string{dummyExt.Name, "polyarch-test-s390x", "qemu-aarch64", "qemu-ppc64le"}
	if !slices.Equal(r.Emulators, want) || !r.Host.Mounted || !r.Private.Checked ||
		!slices.Equal(r.Private.Reregistered, []string{dummyExt.Name, "qemu-aarch64"}) || r.Private.Error != "" {
		return fmt.Errorf("report emulators %v, host %+v, private %+v; want %v mounted, all but the unfit ones re-registered",
			r.Emulators, r.Host, r.Private, want)
	}
	var skipped []string
	for _, sk := range r.Private.Skipped {
		skipped = append(skipped, sk.Handler.Name+": "+sk.Reason)
	}
	if !slices.Equal(skipped, []string{`polyarch-test-s390x: serves linux/s390x with flags "", builds need P and F`,
		`qemu-ppc64le: serves linux/ppc64le with flags "P", builds need P and F`}) {
		return fmt.Errorf("private mode skipped %q, want the unfit s390x and ppc64le handlers", skipped)
	}
	checks := []struct {
		p          string
		where      Where
		flags      string
		host, priv ProbeResult
		problem    string
	}{
		{"linux/amd64", WhereNative, "", ProbeOK, ProbeOK, ""},
		{"linux/arm64", WhereHost, "PF", ProbeOK, ProbeOK, ""},
		{"linux/ppc64le", WherePrivate, "PF", ProbeOK, ProbeOK, ""},
		{"linux/s390x", WherePrivate, "PF", ProbeOK, ProbeOK, ""},
		{"linux/arm/v5", WherePrivate, "PF", ProbeFailed, ProbeOK, ""},
	}
	for _, c := range checks {
		s := statusRow(r, c.p)
		if s.Registered != c.where || s.Flags != c.flags || s.HostProbe != c.host || s.PrivateProbe != c.priv ||
			(c.problem == "") != (s.Problem == "") || !strings.Contains(s.Problem, c.problem) {
			return fmt.Errorf("row %+v: want registered %s, flags %q, probes %s/%s, problem %q", s, c.where, c.flags, c.host, c.priv, c.problem)
		}
		if slices.Contains(r.Supported, c.p) != (c.problem == "") {
			return fmt.Errorf("supported = %v: %s should be listed iff it has no problem", r.Supported, c.p)
		}
	}
	step("status: %d supported; private mode replaced %q", len(r.Supported), skipped)
	return nil
}

func checkEmptyQEMUDir(r *Report, empty string) error {
	s := statusRow(r, "linux/riscv64")
	if s.Registered != WhereNone || s.Interpreter != "" || !strings.Contains(s.Problem, "qemu-user-static") ||
		!strings.Contains(s.Problem, empty) || slices.Contains(r.Supported, "linux/riscv64") {
		return fmt.Errorf("with an empty --qemu-dir, riscv64 row %+v, supported %v: want none, missing interpreter", s, r.Supported)
	}
	if p := statusRow(r, "linux/ppc64le"); p.Registered != WhereHost || !strings.Contains(p.Problem, empty) {
		return fmt.Errorf("with an empty --qemu-dir, ppc64le row %+v: want the unfit host handler, not replaced", p)
	}
	if a := statusRow(r, "linux/arm64"); a.Registered != WhereHost || a.Problem != "" {
		return fmt.Errorf("with an empty --qemu-dir, arm64 row %+v: want the host handler to keep serving", a)
	}
	step("status with empty qemu dir: riscv64: %s", s.Problem)
	return nil
}
