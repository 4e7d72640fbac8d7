package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestInterruptLeavesNothing sends SIGINT, then SIGTERM, while every
// platform is inside a long RUN step: polyarch stops promptly, exits
// 128+signal as shells report it, and leaves no working container, no tag,
// no output and no staging directory.
func TestInterruptLeavesNothing(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) { interruptBuild(t, sig) })
	}
}

// interruptBuild runs one interrupted build.
func interruptBuild(t *testing.T, sig syscall.Signal) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN echo started && sleep 60\n", nil)
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(env.Bin, append(s.flags(), "build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64",
		"-t", "app:sig", "-o", "type=oci,dest="+out, ctxDir)...)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(stdout.String(), "started") < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Count(stdout.String(), "started") < 2 {
		_ = cmd.Process.Kill()
		t.Fatalf("RUN steps did not start: %s %s", stdout.String(), stderr.String())
	}
	start := time.Now()
	_ = cmd.Process.Signal(sig)
	err := cmd.Wait()
	t.Logf("stopped %s after %s: %v\n%s", time.Since(start), sig, err, stderr.String())
	if code := cmd.ProcessState.ExitCode(); code != 128+int(sig) {
		t.Errorf("exit %d after %s, want %d", code, sig, 128+int(sig))
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("polyarch took %s to stop after SIGINT", time.Since(start))
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("error does not say the build was interrupted: %s", stderr.String())
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
	for _, pattern := range []string{filepath.Join(filepath.Dir(out), ".out.polyarch-*"), filepath.Join(s.Root, "polyarch-push-*")} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			t.Errorf("staging left behind: %v", m)
		}
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
