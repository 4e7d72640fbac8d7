package e2e

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFIFOUserFiles builds from bases whose /etc/passwd or /etc/group is
// a named pipe, with a step that looks a user or group up: the build
// fails within seconds (it used to hang for ever), naming the file, the
// platform and the base, and no lookup helper is left running.
func TestFIFOUserFiles(t *testing.T) {
	for _, tc := range []struct{ ref, step, file string }{
		{"fifo-passwd", "USER app\nRUN id", "/etc/passwd"},
		{"fifo-group", "COPY --chown=app:app Containerfile /x", "/etc/group"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			base := "oci:busybox-oci:" + tc.ref
			ctxDir := writeContext(t, "FROM "+base+"\n"+tc.step+"\n", nil)
			copyPath(t, filepath.Join(env.Fixtures, "busybox-oci"), filepath.Join(ctxDir, "busybox-oci"))
			s := newStore(t)
			r := runBounded(t, 60*time.Second, 0, s, "build", "--platform", "linux/amd64,linux/arm64", ctxDir)
			if r.Code != 1 {
				t.Errorf("exit %d, want 1", r.Code)
			}
			if r.Elapsed > 30*time.Second {
				t.Errorf("the build took %s to fail", r.Elapsed)
			}
			want := tc.file + " is a named pipe (FIFO), not a regular file in the linux/"
			if !strings.Contains(r.Stderr, want) || !strings.Contains(r.Stderr, "from base image "+base) {
				t.Errorf("error does not say %q and name the base %s: %s", want, base, r.Stderr)
			}
			checkNoHelpers(t, s)
			checkNoContainers(t, s)
		})
	}
}

// TestSIGTERMEndsStuckBuild sends SIGTERM to polyarch's PID while a step
// waits for ever (an ADD from a server that accepts and never answers,
// a wait buildah does not cancel): polyarch exits 143 within seconds.
func TestSIGTERMEndsStuckBuild(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		var conns []net.Conn // accepted, never answered
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	ctxDir := writeContext(t, "FROM oci:busybox-oci:amd64\nADD http://"+l.Addr().String()+"/never /x\n", nil)
	copyPath(t, filepath.Join(env.Fixtures, "busybox-oci"), filepath.Join(ctxDir, "busybox-oci"))
	s := newStore(t)
	r := runBounded(t, 90*time.Second, 3*time.Second, s, "build", "--platform", "linux/amd64", ctxDir)
	if r.Code != 143 {
		t.Errorf("exit %d after SIGTERM, want 143", r.Code)
	}
	if stopped := r.Elapsed - 3*time.Second; stopped > 15*time.Second {
		t.Errorf("polyarch took %s to stop after SIGTERM", stopped)
	}
	if !strings.Contains(r.Stderr, "interrupted") {
		t.Errorf("error does not say the build was interrupted: %s", r.Stderr)
	}
	checkNoContainers(t, s)
	checkStore(t, s)
	if info, err := os.ReadFile("/proc/self/mountinfo"); err != nil || strings.Contains(string(info), "lowerdir="+ctxDir+",") {
		t.Errorf("buildah's overlay over the build context %s is still mounted (%v)", ctxDir, err)
	}
}

// runBounded runs polyarch, sends SIGTERM to its PID after term (0:
// never), and kills it at limit, which fails the test.
func runBounded(t *testing.T, limit, term time.Duration, s store, args ...string) result {
	t.Helper()
	t.Logf("$ polyarch %s", strings.Join(args, " "))
	cmd := exec.Command(env.Bin, append(s.flags(), args...)...)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if term > 0 {
		timer := time.AfterFunc(term, func() { _ = cmd.Process.Signal(syscall.SIGTERM) })
		defer timer.Stop()
	}
	killer := time.AfterFunc(limit, func() { _ = cmd.Process.Kill() })
	defer killer.Stop()
	_ = cmd.Wait()
	res := result{Code: cmd.ProcessState.ExitCode(), Stdout: stdout.String(), Stderr: stderr.String(), Elapsed: time.Since(start)}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Errorf("polyarch was still running after %s and was killed", limit)
	}
	t.Logf("exit %d in %s\nstdout:\n%s\nstderr:\n%s", res.Code, res.Elapsed.Round(time.Millisecond), res.Stdout, res.Stderr)
	return res
}

// checkNoHelpers fails if a user-lookup helper of the store's builds is
// still running.
func checkNoHelpers(t *testing.T, s store) {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && strings.HasPrefix(string(b), "chrootuser-open\x00"+s.Root) {
			t.Errorf("user-lookup helper left running: %s %q", filepath.Dir(p), b)
		}
	}
}

// checkNoContainers fails if the store still holds a working container.
func checkNoContainers(t *testing.T, s store) {
	t.Helper()
	ps := podman(t, s, "ps", "--all", "--external", "--quiet")
	mustSucceed(t, ps)
	if strings.TrimSpace(ps.Stdout) != "" {
		t.Errorf("working containers left behind: %q", ps.Stdout)
	}
}

// TestHelpersDieWithPolyarch starts polyarch's binary as buildah's
// copier helper, blocked reading a pipe nobody writes, below a parent that
// is then killed with SIGKILL: the helper dies with it.
func TestHelpersDieWithPolyarch(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "stdin")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	hold, err := os.OpenFile(fifo, os.O_RDWR, 0) // a writer that never writes
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	parent := exec.Command("bash", "-c", `exec -a buildah-copier "$0" < "$1" & echo $!; wait`, env.Bin, fifo)
	stdout, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	pid, perr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || perr != nil || pid <= 0 {
		_ = parent.Process.Kill()
		t.Fatalf("reading the helper's pid: %q %v %v", line, err, perr)
	}
	time.Sleep(500 * time.Millisecond) // the helper starts and blocks on its stdin
	if !alive(pid) {
		t.Fatalf("the helper %d exited before its parent was killed", pid)
	}
	_ = parent.Process.Kill()
	_ = parent.Wait()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !alive(pid) {
			return
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("buildah-copier helper %d outlived its killed parent by 5s", pid)
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	return end < 0 || !strings.HasPrefix(s[end:], ") Z")
}
