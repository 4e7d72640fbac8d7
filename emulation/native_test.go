package emulation

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func init() { helpers["native"] = helperNative }

func TestCompatArch(t *testing.T) {
	for _, tt := range []struct {
		host, arch string
		want       bool
	}{
		{"amd64", "386", true},
		{"arm64", "arm", true},
		{"amd64", "amd64", false}, // the host's own: Native needs no probe
		{"amd64", "arm64", false},
		{"amd64", "arm", false},
		{"arm64", "386", false},
		{"arm64", "amd64", false},
		{"ppc64le", "ppc64", false},
		{"s390x", "386", false},
	} {
		if got := compatArch(tt.host, tt.arch); got != tt.want {
			t.Errorf("compatArch(%s, %s) = %v, want %v", tt.host, tt.arch, got, tt.want)
		}
	}
}

// TestNativeWithoutProbe covers the answers Native gives without running
// anything.
func TestNativeWithoutProbe(t *testing.T) {
	foreign := "linux/s390x"
	if runtime.GOARCH == "s390x" {
		foreign = "linux/riscv64"
	}
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"linux/" + runtime.GOARCH, true},
		{"LINUX/" + strings.ToUpper(runtime.GOARCH), true},
		{"windows/" + runtime.GOARCH, false},
		{"darwin/" + runtime.GOARCH, false},
		{foreign, false},
	} {
		if got := Native(plat(tt.in)); got != tt.want {
			t.Errorf("Native(%s) = %v, want %v (host %s/%s)", tt.in, got, tt.want, runtime.GOOS, runtime.GOARCH)
		}
	}
}

// TestNativeFollowsTheKernel asks the kernel itself, in a user namespace
// with an empty binfmt_misc, which table platforms it runs; Native must
// agree on every row. On an amd64 kernel with IA32 emulation linux/386 is
// native; without it (ia32_emulation=0, common on cloud VMs) it is not,
// and qemu-i386 serves it. Inside, the helper also proves that a handler
// matching a platform's programs never answers the native probe.
func TestNativeFollowsTheKernel(t *testing.T) {
	requireNamespaces(t)
	out, err := runInNamespace("native")
	if err != nil {
		t.Fatalf("helper native: %v\n%s", err, out)
	}
	kernel := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		t.Log(line)
		var p string
		var runs bool
		if n, _ := fmt.Sscanf(line, "kernel runs %s natively: %t", &p, &runs); n == 2 {
			kernel[p] = runs
		}
	}
	if len(kernel) != len(table) {
		t.Fatalf("helper reported %d platforms, want %d", len(kernel), len(table))
	}
	for _, e := range table {
		p := FormatPlatform(e.Platform)
		want := kernel[p] && (e.Platform.Architecture == runtime.GOARCH || compatArch(runtime.GOARCH, e.Platform.Architecture))
		if got := Native(e.Platform); got != want {
			t.Errorf("Native(%s) = %v, but the kernel runs it natively: %v", p, got, kernel[p])
		}
		if e.Platform.Architecture == runtime.GOARCH && !kernel[p] {
			t.Errorf("the kernel does not run its own architecture's probe (%s)", p)
		}
	}
}

// helperNative runs, in an empty private binfmt_misc, every table row's
// probe with no handler (so only the kernel can run it), then with a decoy
// handler (/bin/false) for that row's magic: the plain probe must go to
// the decoy, and the native probe must ignore it.
func helperNative() error {
	if err := mountFresh(DefaultMountPoint); err != nil {
		return err
	}
	ctx := context.Background()
	for _, e := range table {
		plain, err := probeELF(e)
		if err != nil {
			return err
		}
		runs := runProbeELF(ctx, e, plain) == nil
		step("kernel runs %s natively: %t", FormatPlatform(e.Platform), runs)
		if e.Platform.Architecture == runtime.GOARCH {
			continue // a decoy for the host's own programs would take /bin/false too
		}
		if err := checkDecoy(ctx, e, plain, runs); err != nil {
			return fmt.Errorf("%s: %w", FormatPlatform(e.Platform), err)
		}
	}
	return nil
}

// checkDecoy registers /bin/false for e's magic and checks that the plain
// probe now fails through it while the native probe runs exactly when the
// kernel runs e's programs.
func checkDecoy(ctx context.Context, e Emulator, plain []byte, runs bool) error {
	if err := Register(DefaultMountPoint, e, "/bin/false", "F"); err != nil && !errors.Is(err, ErrExists) {
		return err
	}
	defer Unregister(DefaultMountPoint, HandlerName(e))
	if err := runProbeELF(ctx, e, plain); !servedByDecoy(err) {
		return fmt.Errorf("the plain probe with a /bin/false handler: %v, want the handler's exit status 1", err)
	}
	marked, err := nativeProbeELF(e)
	if err != nil {
		return err
	}
	err = runProbeELF(ctx, e, marked)
	if (err == nil) != runs || servedByDecoy(err) {
		return fmt.Errorf("the native probe with a /bin/false handler: %v; the kernel runs it natively: %t", err, runs)
	}
	if got := nativeProbe(e); (got == nil) != runs {
		return fmt.Errorf("nativeProbe = %v; the kernel runs it natively: %t", got, runs)
	}
	return nil
}

// servedByDecoy reports whether a probe failed because /bin/false ran it.
func servedByDecoy(err error) bool {
	return err != nil && strings.Contains(err.Error(), "the probe exit status 1")
}
