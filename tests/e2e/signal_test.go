package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestInterruptLeavesNothing sends SIGINT, then SIGTERM, to polyarch's PID
// alone (as CI systems and timeout do, not to its process group) while a
// RUN step's grandchild runs on a native (amd64) and a foreign (arm64)
// platform at once: polyarch stops promptly, exits 128+signal as shells
// report it, and by the time it has exited no process of either RUN is
// left (the sleep, its shell, the qemu-aarch64-static running them), nor
// a working container, tag, output or staging directory. Private
// emulation runs as root and rootless; host emulation, which registers the
// handler in the host's binfmt_misc, as root (guardHost restores the host).
func TestInterruptLeavesNothing(t *testing.T) {
	for _, mode := range []string{"private", "host"} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(mode+"/"+unix.SignalName(sig), func(t *testing.T) {
				if mode == "host" {
					guardHost(t)
				}
				interruptBuild(t, mode, sig, "", false)
				if mode == "host" && !slices.Contains(hostHandlers(t), "qemu-aarch64") {
					t.Errorf("the build did not register qemu-aarch64 in the host's binfmt_misc: host mode was not exercised")
				}
			})
		}
	}
}

// TestInterruptKillsWhatIgnoresSIGTERM: a RUN step whose processes ignore
// SIGTERM (and SIGINT) is stopped all the same, native and emulated
// alike, and polyarch still leaves nothing and exits 128+signal. Each RUN
// step runs in its own PID namespace (builder/runns.go): buildah's
// chroot-exec answers SIGTERM with SIGKILL to the step's shell, its
// runtime, PID 1 of the namespace, then exits, and the kernel kills
// every process left there, at once; before PID namespaces, the ignoring
// grandchildren lived until polyarch's SIGKILL after the 3 s grace.
func TestInterruptKillsWhatIgnoresSIGTERM(t *testing.T) {
	start := time.Now()
	interruptBuild(t, "private", syscall.SIGTERM, "trap '' TERM INT; ", false)
	t.Logf("build and interrupt took %s", time.Since(start))
}

// TestCtrlCAtTerminal sends SIGINT to polyarch's whole process group, as
// a terminal does on Ctrl-C: polyarch re-executed in its user namespace
// must take it as one interrupt (stop RUN steps, clean up, say so), not as
// the direct SIGINT plus the one its parent forwards, a "second signal"
// that would kill it at once and leave RUN processes behind.
func TestCtrlCAtTerminal(t *testing.T) {
	interruptBuild(t, "private", syscall.SIGINT, "trap '' TERM INT; ", true)
}

// TestBuildStopsBackgroundProcesses: processes a RUN step leaves in the
// background, natively and under qemu, do not outlive a successful build.
func TestBuildStopsBackgroundProcesses(t *testing.T) {
	s := newStore(t)
	marker := newMarker()
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN (sleep "+marker+" &); (trap '' TERM; sleep "+marker+" &); echo left\n", nil)
	t.Cleanup(func() { killMarked(marker) })
	mustSucceed(t, polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64", ctxDir))
	if left := marked(marker); len(left) > 0 {
		t.Errorf("background processes of RUN steps outlived the build:\n%s", formatProcs(left))
	}
}

// newMarker returns a unique argument for sleep, to find its processes.
func newMarker() string {
	return fmt.Sprintf("60.%d%06d", os.Getpid()%1000, time.Now().Nanosecond()/1000)
}

// interruptBuild runs one build whose RUN step, prefixed with runPrefix,
// is interrupted with sig: sent to polyarch's PID, or with group to its
// whole process group (polyarch is started as a group leader).
func interruptBuild(t *testing.T, mode string, sig syscall.Signal, runPrefix string, group bool) {
	s := newStore(t)
	marker := newMarker()
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN "+runPrefix+"echo started; sleep "+marker+"; echo end\n", nil)
	out := filepath.Join(t.TempDir(), "out")
	args := append(s.flags(), "build", "--tls-verify=false", "--emulation="+mode, "--platform", "linux/amd64,linux/arm64",
		"-t", "app:sig", "-o", "type=oci,dest="+out, ctxDir)
	t.Logf("$ %s %s", env.Bin, strings.Join(args, " "))
	cmd := exec.Command(env.Bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: group}
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killMarked(marker) })
	deadline := time.Now().Add(40 * time.Second)
	for !grandchildrenRun(marker) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !grandchildrenRun(marker) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the RUN steps' sleeps did not start on both platforms: %s\n%s\nprocesses: %v", stdout.String(), stderr.String(), marked(marker))
	}
	t.Logf("before %s to pid %d:\n%s", unix.SignalName(sig), cmd.Process.Pid, formatProcs(marked(marker)))
	start := time.Now()
	if group {
		_ = syscall.Kill(-cmd.Process.Pid, sig)
	} else {
		_ = cmd.Process.Signal(sig) // this pid only, not its group
	}
	err := cmd.Wait()
	left := marked(marker)
	t.Logf("stopped %s after %s: %v\n%s", time.Since(start), unix.SignalName(sig), err, stderr.String())
	if len(left) > 0 {
		t.Errorf("RUN processes left after polyarch exited:\n%s", formatProcs(left))
		time.Sleep(5 * time.Second)
		t.Logf("5 s later:\n%s", formatProcs(marked(marker)))
	}
	if code := cmd.ProcessState.ExitCode(); code != 128+int(sig) {
		t.Errorf("exit %d after %s, want %d", code, unix.SignalName(sig), 128+int(sig))
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("polyarch took %s to stop after %s", time.Since(start), unix.SignalName(sig))
	}
	if !strings.Contains(stderr.String(), "interrupted, nothing was published") {
		t.Errorf("error does not say the build was interrupted and nothing published: %s", stderr.String())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output %s exists after an interrupted build", out)
	}
	ps := podman(t, s, "ps", "--all", "--external", "--quiet")
	mustSucceed(t, ps)
	if strings.TrimSpace(ps.Stdout) != "" {
		t.Errorf("working containers left behind: %q", ps.Stdout)
	}
	if r := podman(t, s, "image", "exists", "localhost/app:sig"); r.Code == 0 {
		t.Errorf("tag app:sig exists after an interrupted build")
	}
	for _, pattern := range []string{filepath.Join(filepath.Dir(out), ".out.polyarch-*"), filepath.Join(s.Root, "polyarch-push-*"), filepath.Join(s.Root, "polyarch-stage-*")} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			t.Errorf("staging left behind: %v", m)
		}
	}
}

// proc is a process found by its command line.
type proc struct {
	pid, ppid int
	args      []string
}

// marked lists the processes whose command line holds marker.
func marked(marker string) []proc {
	var out []proc
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !strings.Contains(string(b), marker) {
			continue
		}
		p := proc{args: strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")}
		p.pid, _ = strconv.Atoi(filepath.Base(d))
		if stat, err := os.ReadFile(filepath.Join(d, "stat")); err == nil {
			if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
				if f := strings.Fields(string(stat)[i+1:]); len(f) > 1 {
					p.ppid, _ = strconv.Atoi(f[1])
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// grandchildrenRun reports whether the RUN steps' sleeps run natively
// and under qemu-aarch64-static.
func grandchildrenRun(marker string) bool {
	var native, emulated bool
	for _, p := range marked(marker) {
		last := p.args[len(p.args)-1]
		switch {
		case p.args[0] == "sleep" && last == marker:
			native = true
		case filepath.Base(p.args[0]) == "qemu-aarch64-static" && slices.Contains(p.args, "sleep") && last == marker:
			emulated = true
		}
	}
	return native && emulated
}

// formatProcs prints processes as ps -o pid,ppid,args does.
func formatProcs(ps []proc) string {
	var b strings.Builder
	b.WriteString("  PID  PPID COMMAND\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "%5d %5d %s\n", p.pid, p.ppid, strings.Join(p.args, " "))
	}
	return b.String()
}

// killMarked kills what a failed test left (as root; a rootless run
// cannot signal processes of its subordinate uids, which time out).
func killMarked(marker string) {
	for _, p := range marked(marker) {
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
