package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"golang.org/x/sys/unix"
)

// Tests of linux/386 on an amd64 kernel, which runs it natively only with
// IA32 emulation (often off on cloud VMs). Each test asks the kernel which
// case it is, and asserts the path polyarch must take for it. A kernel
// without IA32 is simulated by a seccomp filter that kills any process
// making an i386 system call: qemu-i386-static is an x86_64 program, so
// only native 386 code is affected.

// noIA32Env turns the test binary into a wrapper (see TestMain): it
// installs that filter, then executes its arguments.
const noIA32Env = "POLYARCH_E2E_NO_IA32"

// execWithoutIA32 installs the filter on every thread of this process and
// executes argv; it returns only on failure. Children inherit the filter.
func execWithoutIA32(argv []string) int {
	const archOffset = 4 // struct seccomp_data: int nr; __u32 arch; ...
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: archOffset},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.AUDIT_ARCH_I386},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_KILL_PROCESS},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "no-ia32 wrapper: PR_SET_NO_NEW_PRIVS:", err)
		return 126
	}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog))); errno != 0 {
		fmt.Fprintln(os.Stderr, "no-ia32 wrapper: seccomp:", errno)
		return 126
	}
	path, err := exec.LookPath(argv[0])
	if err == nil {
		err = os.Unsetenv(noIA32Env) // argv may be this test binary, to be run as a test
	}
	if err == nil {
		err = unix.Exec(path, argv, os.Environ())
	}
	fmt.Fprintln(os.Stderr, "no-ia32 wrapper:", err)
	return 127
}

// runWithoutIA32 runs argv under the filter, through this test binary.
func runWithoutIA32(t *testing.T, argv ...string) result {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return runCmd(t, "", "env", append([]string{noIA32Env + "=1", self}, argv...)...)
}

var (
	busybox386Once sync.Once
	busybox386Path string
	busybox386Err  error
)

// busybox386 writes the fixture's static i386 busybox to a file (once).
func busybox386(t *testing.T) string {
	t.Helper()
	busybox386Once.Do(func() {
		l := layout{t: t, dir: filepath.Join(env.Fixtures, "busybox-oci")}
		var top, idx specs.Index
		b, err := os.ReadFile(filepath.Join(l.dir, "index.json"))
		if busybox386Err = err; err != nil {
			return
		}
		if busybox386Err = json.Unmarshal(b, &top); busybox386Err != nil {
			return
		}
		for _, m := range top.Manifests {
			if m.Annotations[specs.AnnotationRefName] == "latest" {
				l.readJSON(m.Digest.String(), &idx)
			}
		}
		for i, m := range idx.Manifests {
			if m.Platform != nil && m.Platform.Architecture == "386" {
				content, err := l.file(idx, i, "/bin/busybox")
				if busybox386Err = err; err != nil {
					return
				}
				dir, err := os.MkdirTemp("", "polyarch-e2e-386-")
				if busybox386Err = err; err != nil {
					return
				}
				busybox386Path = filepath.Join(dir, "busybox")
				busybox386Err = os.WriteFile(busybox386Path, []byte(content), 0o755)
				return
			}
		}
		busybox386Err = fmt.Errorf("the busybox:latest fixture has no linux/386 image")
	})
	if busybox386Err != nil {
		t.Fatalf("extracting the i386 busybox fixture: %v", busybox386Err)
	}
	return busybox386Path
}

// kernelCmd is a shell command running the i386 busybox in a new user and
// mount namespace with an empty binfmt_misc: only the kernel can run it.
func kernelCmd(t *testing.T) []string {
	return []string{"unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
		"mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc && exec \"$0\" uname -m", busybox386(t)}
}

// kernelRuns386 asks the kernel whether it runs i386 programs natively,
// with no binfmt_misc handler at all: it does if busybox exits 0; it does
// not if exec fails with ENOEXEC (no IA32 emulation) or the program is
// killed by SIGSYS (the no-IA32 filter, when the tests run under it).
func kernelRuns386(t *testing.T) bool {
	t.Helper()
	argv := kernelCmd(t)
	cmd := exec.Command(argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return true
	case strings.Contains(strings.ToLower(string(out)), "exec format error"):
		return false
	case errors.As(err, &exitErr) && exitErr.Sys().(syscall.WaitStatus).Signal() == syscall.SIGSYS:
		return false
	}
	t.Fatalf("running an i386 busybox with an empty binfmt_misc: %v: %s", err, out)
	return false
}

// machine386 is what `uname -m` prints in a linux/386 RUN step: a native
// 32-bit process on an amd64 kernel sees x86_64 (buildah sets no
// PER_LINUX32 personality), qemu-i386 says i686.
func machine386(native bool) string {
	if native {
		return "x86_64"
	}
	return "i686"
}

// expected386 is what `uname -m` prints in a linux/386 RUN step of a
// build that uses the host's binfmt_misc or polyarch's default mode:
// native where the kernel runs i386 code, unless the host's binfmt_misc
// already holds a qemu-i386 handler (put there by an administrator, or
// left by an interrupted host-mode run), which then takes i386 programs
// and prints i686.
func expected386(t *testing.T) string {
	t.Helper()
	native := kernelRuns386(t)
	if native && hostHasQEMU386(t) {
		t.Logf("the host's binfmt_misc holds a qemu-i386 handler: i386 code runs under it")
		return machine386(false)
	}
	return machine386(native)
}

// build386 builds linux/386 with RUN uname -m, checks /arch.txt and
// returns the build's output.
func build386(t *testing.T, s store, run func(args ...string) result, want string, extra ...string) result {
	t.Helper()
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN uname -m | tee /arch.txt && busybox | head -1\n", nil)
	out := filepath.Join(t.TempDir(), "i386")
	args := append(append(s.flags(), "build", "--no-cache", "--tls-verify=false", "--platform", "linux/386", "-o", "type=oci,dest="+out), extra...)
	r := run(append(args, ctxDir)...)
	mustSucceed(t, r)
	l := layout{t: t, dir: out}
	_, _, idx := l.top()
	arch, err := l.file(idx, 0, "/arch.txt")
	if err != nil || strings.TrimSpace(arch) != want {
		t.Errorf("linux/386 /arch.txt = %q (%v), want %q", arch, err, want)
	}
	t.Logf("linux/386 build, /arch.txt %q:\n%s%s", strings.TrimSpace(arch), r.Stdout, r.Stderr)
	return r
}

// status386 returns the linux/386 row of `polyarch emulation status`.
func status386(t *testing.T, rep emulation.Report) emulation.PlatformStatus {
	t.Helper()
	return statusRow(t, rep, "linux/386")
}

// TestBuild386FollowsTheKernel: on this kernel linux/386 is native if
// and only if the kernel runs i386 code; otherwise qemu-i386 serves it.
func TestBuild386FollowsTheKernel(t *testing.T) {
	native := kernelRuns386(t)
	t.Logf("this kernel runs i386 code natively: %v", native)
	s := newStore(t)
	row := status386(t, emulationStatus(t, s))
	if row.Native != native {
		t.Errorf("emulation status: linux/386 native = %v, the kernel says %v", row.Native, native)
	}
	if !native && (row.PrivateProbe != emulation.ProbeOK || row.Registered == emulation.WhereNone) {
		t.Errorf("emulation status: linux/386 is not native but not served by qemu-i386: %+v", row)
	}
	build386(t, s, func(args ...string) result { return runCmd(t, "", env.Bin, args...) }, expected386(t))
}

// TestBuild386WithoutIA32 simulates a kernel without IA32 emulation: the
// seccomp filter must make i386 code fail as such a kernel does, then the
// probe must find linux/386 not native, and the build must succeed
// through qemu-i386 in private mode (host mode: TestHostMode386).
func TestBuild386WithoutIA32(t *testing.T) {
	requireFilterAsRoot(t)
	r := runWithoutIA32(t, kernelCmd(t)...)
	if r.Code == 0 {
		t.Fatalf("an i386 program ran under the no-IA32 filter: %s", r.Stdout)
	}
	t.Logf("i386 busybox under the filter, no handler: exit %d (%s)", r.Code, strings.TrimSpace(r.Stderr))
	s := newStore(t)
	rep := runWithoutIA32(t, append(append([]string{env.Bin}, s.flags()...), "emulation", "status", "--format", "json")...)
	mustSucceed(t, rep)
	var status emulation.Report
	if err := json.Unmarshal([]byte(rep.Stdout), &status); err != nil {
		t.Fatal(err)
	}
	row := status386(t, status)
	if row.Native || row.PrivateProbe != emulation.ProbeOK || row.Registered == emulation.WhereNone {
		t.Errorf("under the filter linux/386 must be emulated by qemu-i386, status: %+v", row)
	}
	build386(t, s, func(args ...string) result {
		return runWithoutIA32(t, append([]string{env.Bin}, args...)...)
	}, machine386(false), "--emulation", "private")
}

// requireFilterAsRoot skips for unprivileged users: no_new_privs, which
// an unprivileged seccomp filter needs, disables the setuid newuidmap that
// rootless polyarch depends on.
func requireFilterAsRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the no-IA32 simulation needs root: no_new_privs would disable the setuid newuidmap of rootless mode")
	}
}

// TestHostMode386: --emulation=host registers qemu-i386 in the host's
// binfmt_misc only where the kernel cannot run i386 code (a handler would
// take i386 programs away from a kernel that runs them), and registers it
// where the kernel cannot: on this kernel, then under the no-IA32 filter.
func TestHostMode386(t *testing.T) {
	guardHost(t)
	native := kernelRuns386(t)
	s := newStore(t)
	direct := func(args ...string) result { return runCmd(t, "", env.Bin, args...) }
	build386(t, s, direct, machine386(native), "--emulation", "host")
	if got := hostHasQEMU386(t); got == native {
		t.Errorf("host mode on a kernel that runs i386 natively (%v): qemu-i386 registered on the host: %v", native, got)
	}
	build386(t, s, func(args ...string) result {
		return runWithoutIA32(t, append([]string{env.Bin}, args...)...)
	}, machine386(false), "--emulation", "host")
	if !hostHasQEMU386(t) {
		t.Errorf("host mode under the no-IA32 filter: no qemu-i386 handler on the host")
	}
}

// hostHasQEMU386 reports whether the host's binfmt_misc holds qemu-i386
// with the flags builds need.
func hostHasQEMU386(t *testing.T) bool {
	t.Helper()
	if mounted, err := emulation.Mounted(hostBinfmt); err != nil || !mounted {
		return false
	}
	h, err := emulation.ReadHandler(hostBinfmt, "qemu-i386")
	return err == nil && emulation.HasBuildFlags(h)
}
