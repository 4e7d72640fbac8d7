package main

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
)

// sampleReport has a native row, a host row, a private row and a broken one.
func sampleReport() *emulation.Report {
	return &emulation.Report{
		Supported: []string{"linux/amd64", "linux/arm64", "linux/s390x"},
		Emulators: []string{"python3.11", "qemu-aarch64"},
		Host: emulation.HostReport{MountPoint: "/proc/sys/fs/binfmt_misc", Mounted: true,
			Handlers: []emulation.Handler{{Name: "python3.11"}, {Name: "qemu-aarch64"}}},
		Private: emulation.PrivateReport{Supported: true, Checked: true, Reregistered: []string{"python3.11", "qemu-aarch64"},
			Skipped: []emulation.SkippedHandler{{Handler: emulation.Handler{Name: "qemu-s390x"},
				Reason: `serves linux/s390x with flags "P", builds need P and F`}}},
		Platforms: []emulation.PlatformStatus{
			{Platform: "linux/amd64", Native: true, Registered: emulation.WhereNative, HostProbe: "ok", PrivateProbe: "ok"},
			{Platform: "linux/arm64", Interpreter: "/usr/bin/qemu-aarch64-static", Registered: emulation.WhereHost,
				Handler: "qemu-aarch64", Flags: "OPF", HostProbe: "ok", PrivateProbe: "ok"},
			{Platform: "linux/s390x", Interpreter: "/usr/bin/qemu-s390x-static", Registered: emulation.WherePrivate,
				Handler: "qemu-s390x", Flags: "PF", HostProbe: "fail", PrivateProbe: "ok"},
			{Platform: "linux/riscv64", Registered: emulation.WhereNone, HostProbe: "fail", PrivateProbe: "fail",
				Problem: "no qemu-riscv64-static in /x"},
		},
	}
}

func TestPrintStatus(t *testing.T) {
	notChecked := sampleReport()
	notChecked.Private = emulation.PrivateReport{Supported: false, Reason: "kernel 6.1 is older than 6.7"}
	notChecked.Host = emulation.HostReport{MountPoint: "/proc/sys/fs/binfmt_misc"}
	for _, tt := range []struct {
		name string
		r    *emulation.Report
		want string
	}{
		{"checked", sampleReport(), `PLATFORM       INTERPRETER                   REGISTERED  HANDLER       FLAGS  HOST  PRIVATE
linux/amd64    -                             native      -             -      ok    ok
linux/arm64    /usr/bin/qemu-aarch64-static  host        qemu-aarch64  OPF    ok    ok
linux/s390x    /usr/bin/qemu-s390x-static    private     qemu-s390x    PF     fail  ok
linux/riscv64  -                             none        -             -      fail  fail

host binfmt_misc: mounted at /proc/sys/fs/binfmt_misc, handlers: python3.11, qemu-aarch64
private mode: supported; checked in polyarch's own user and mount namespace, as builds run; host handlers re-registered there: python3.11, qemu-aarch64; host handlers left out as unfit for builds, replaced there by polyarch's: qemu-s390x (serves linux/s390x with flags "P", builds need P and F)
builds can run: linux/amd64, linux/arm64, linux/s390x
problems:
  linux/riscv64: no qemu-riscv64-static in /x
`},
		{"unavailable", notChecked, "private mode: not available: kernel 6.1 is older than 6.7\n"},
		{"unmounted", notChecked, "host binfmt_misc: not mounted at /proc/sys/fs/binfmt_misc (builds use private mode"},
	} {
		var b bytes.Buffer
		printStatus(&b, tt.r)
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("%s: printStatus wrote\n%s\nwant it to contain\n%s", tt.name, b.String(), tt.want)
		}
	}
}

func TestPrintInstall(t *testing.T) {
	arm64 := specs.Platform{OS: "linux", Architecture: "arm64"}
	res := []emulation.InstallResult{
		{Platform: specs.Platform{OS: "linux", Architecture: "amd64"}, Status: emulation.StatusNative},
		{Platform: arm64, Status: emulation.StatusRegistered, Handler: "qemu-aarch64", Interpreter: "/usr/bin/qemu-aarch64-static", Flags: "PF",
			Persisted: "/etc/binfmt.d/polyarch-qemu-aarch64.conf"},
		{Platform: specs.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, Status: emulation.StatusExisting, Handler: "qemu-arm",
			Interpreter: "/usr/libexec/qemu-binfmt/arm-binfmt-P", Flags: "OPF", Persisted: "/usr/lib/binfmt.d/qemu-arm.conf"},
		{Platform: specs.Platform{OS: "linux", Architecture: "s390x"}, Status: emulation.StatusFailed, Handler: "qemu-s390x", Err: errors.New("x")},
	}
	for _, tt := range []struct {
		persist bool
		want    string
	}{
		{false, `PLATFORM      RESULT              HANDLER       INTERPRETER                            FLAGS
linux/amd64   native              -             -                                      -
linux/arm64   registered          qemu-aarch64  /usr/bin/qemu-aarch64-static           PF
linux/arm/v7  already registered  qemu-arm      /usr/libexec/qemu-binfmt/arm-binfmt-P  OPF
linux/s390x   failed              qemu-s390x    -                                      -
`},
		{true, `PLATFORM      RESULT              HANDLER       INTERPRETER                            FLAGS  PERSISTED BY
linux/amd64   native              -             -                                      -      -
linux/arm64   registered          qemu-aarch64  /usr/bin/qemu-aarch64-static           PF     /etc/binfmt.d/polyarch-qemu-aarch64.conf
linux/arm/v7  already registered  qemu-arm      /usr/libexec/qemu-binfmt/arm-binfmt-P  OPF    /usr/lib/binfmt.d/qemu-arm.conf
linux/s390x   failed              qemu-s390x    -                                      -      -
`},
	} {
		var b bytes.Buffer
		printInstall(&b, res, tt.persist)
		if b.String() != tt.want {
			t.Errorf("printInstall(persist=%v) wrote\n%s\nwant\n%s", tt.persist, b.String(), tt.want)
		}
	}
}

func TestPrintUninstall(t *testing.T) {
	res := []emulation.UninstallResult{
		{Platform: specs.Platform{OS: "linux", Architecture: "386"}, Status: emulation.UninstallNative},
		{Platform: specs.Platform{OS: "linux", Architecture: "arm64"}, Status: emulation.UninstallRemoved, Handler: "qemu-aarch64",
			Conf: "/etc/binfmt.d/polyarch-qemu-aarch64.conf"},
		{Platform: specs.Platform{OS: "linux", Architecture: "riscv64"}, Status: emulation.UninstallNotRegistered, Handler: "qemu-riscv64"},
		{Platform: specs.Platform{OS: "linux", Architecture: "s390x"}, Status: emulation.UninstallFailed, Handler: "qemu-s390x", Err: errors.New("x")},
		{Platform: specs.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, Status: emulation.UninstallKept, Handler: "qemu-arm", Note: "qemu-arm (…) was not registered by polyarch"},
		{Platform: specs.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}, Status: emulation.UninstallKept, Handler: "qemu-arm", Note: "qemu-arm (…) was not registered by polyarch"},
	}
	want := `PLATFORM       RESULT          HANDLER       REMOVED FILE
linux/386      native          -             -
linux/arm64    removed         qemu-aarch64  /etc/binfmt.d/polyarch-qemu-aarch64.conf
linux/riscv64  not registered  qemu-riscv64  -
linux/s390x    failed          qemu-s390x    -
linux/arm/v7   kept            qemu-arm      -
linux/arm/v6   kept            qemu-arm      -
kept:
  qemu-arm (…) was not registered by polyarch
`
	var b bytes.Buffer
	printUninstall(&b, res)
	if b.String() != want {
		t.Errorf("printUninstall wrote\n%s\nwant\n%s", b.String(), want)
	}
}

func TestFailures(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("[linux/s390x] x"), "installing emulation: 1 of 3 platforms failed:\n[linux/s390x] x"},
		{errors.Join(errors.New("[linux/s390x] x"), errors.New("[linux/arm64] y")),
			"installing emulation: 2 of 3 platforms failed:\n[linux/s390x] x\n[linux/arm64] y"},
	} {
		err := failures("installing emulation", 3, tt.err)
		if (err == nil) != (tt.want == "") || (err != nil && err.Error() != tt.want) {
			t.Errorf("failures(%v) = %v, want %q", tt.err, err, tt.want)
		}
	}
}

// TestEmulationUsageErrors runs the app in-process on argument errors,
// which are all caught before anything touches binfmt_misc.
func TestEmulationUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"uninstall"}, "needs platforms, e.g. linux/arm64, or all"},
		{[]string{"install", "linux/sparc64"}, "supported platforms are linux/amd64"},
		{[]string{"install", "--", "-x"}, `"-x" is not a platform`},
		{[]string{"install", "linux/ppc64el,linux/mips"}, `unsupported platform "linux/mips"`},
		{[]string{"uninstall", "all,"}, "empty platform"},
		{[]string{"status", "--format", "yaml"}, `invalid --format "yaml": use table or json`},
		{[]string{"status", "extra"}, "takes no arguments"},
	} {
		code, _, stderr := runApp(t, append([]string{"emulation"}, tt.args...)...)
		if code != 125 || !strings.Contains(stderr, tt.want) {
			t.Errorf("polyarch emulation %q: exit %d, stderr %q; want exit 125 with %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestExpandAll: "all" anywhere in a comma list stands for the table, and
// the result parses with the same vocabulary as build's --platform.
func TestExpandAll(t *testing.T) {
	var table []string
	for _, p := range emulation.TablePlatforms() {
		table = append(table, emulation.FormatPlatform(p))
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"ppc64el"}, []string{"linux/ppc64le"}},
		{[]string{"aarch64,armhf", "i386"}, []string{"linux/arm64", "linux/arm/v7", "linux/386"}},
		{[]string{"all"}, table},
		{[]string{"s390x,ALL"}, append([]string{"linux/s390x"}, slices.DeleteFunc(slices.Clone(table), func(s string) bool { return s == "linux/s390x" })...)},
	} {
		ps, err := emulation.ParsePlatforms(expandAll(tt.args))
		var got []string
		for _, p := range ps {
			got = append(got, emulation.FormatPlatform(p))
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParsePlatforms(expandAll(%q)) = %v, %v; want %v", tt.args, got, err, tt.want)
		}
	}
}
