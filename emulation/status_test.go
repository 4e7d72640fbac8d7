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
// its own binfmt_misc holds a good arm64 handler, an unfit ppc64le one
// and a foreign handler. Status's private check then runs one namespace
// further down, as it would under the real host.
func TestStatusInNamespace(t *testing.T) { testInNamespace(t, "status") }

func helperStatus() error {
	mnt := DefaultMountPoint
	if err := mountFresh(mnt); err != nil {
		return err
	}
	if err := registerQEMU(mnt, "linux/arm64"); err != nil {
		return err
	}
	for _, h := range []Handler{dummyExt, unfitPPC()} {
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

func checkStatusReport(r *Report) error {
	want := []string{dummyExt.Name, "qemu-aarch64", "qemu-ppc64le"}
	if !slices.Equal(r.Emulators, want) || !r.Host.Mounted || !r.Private.Checked || !slices.Equal(r.Private.Reregistered, want) {
		return fmt.Errorf("report emulators %v, host %+v, private %+v; want %v mounted and re-registered", r.Emulators, r.Host, r.Private, want)
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
		{"linux/ppc64le", WhereHost, "P", ProbeOK, ProbeOK, "emulation uninstall linux/ppc64le"},
		{"linux/s390x", WherePrivate, "PF", ProbeFailed, ProbeOK, ""},
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
	step("status: %d supported, ppc64le flagged: %s", len(r.Supported), statusRow(r, "linux/ppc64le").Problem)
	return nil
}

func checkEmptyQEMUDir(r *Report, empty string) error {
	s := statusRow(r, "linux/s390x")
	if s.Registered != WhereNone || s.Interpreter != "" || !strings.Contains(s.Problem, "qemu-user-static") ||
		!strings.Contains(s.Problem, empty) || slices.Contains(r.Supported, "linux/s390x") {
		return fmt.Errorf("with an empty --qemu-dir, s390x row %+v, supported %v: want none, missing interpreter", s, r.Supported)
	}
	if a := statusRow(r, "linux/arm64"); a.Registered != WhereHost || a.Problem != "" {
		return fmt.Errorf("with an empty --qemu-dir, arm64 row %+v: want the host handler to keep serving", a)
	}
	step("status with empty qemu dir: s390x: %s", s.Problem)
	return nil
}
