package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// minimalDev is what a chroot RUN step's /dev holds: the nodes and links
// the OCI runtime specification gives every container, a private devpts
// and a private shm. An OCI runtime adds its own /dev/mqueue.
var minimalDev = []string{"fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"}

// TestRunStepsCannotSeeTheHost starts a host sleep and builds, for a
// native and an emulated platform and with each isolation, a RUN step
// that tries to read the sleep's command line and to stop it: both fail,
// the sleep still runs (not stopped), the step sees itself as a low PID
// in a PID namespace whose PID 1 is not the host's, a minimal /dev, its
// own IPC namespace and its own hostname. Root and rootless runs alike.
func TestRunStepsCannotSeeTheHost(t *testing.T) {
	sleep := exec.Command("sleep", "600")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleep.Process.Kill(); _ = sleep.Wait() }()
	pid := sleep.Process.Pid
	hostIPC, err := os.Readlink("/proc/self/ns/ipc")
	if err != nil {
		t.Fatal(err)
	}
	hostInit, err := os.ReadFile("/proc/1/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	hostName, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	for _, isolation := range []string{"chroot", "oci"} {
		if isolation == "oci" {
			requireRunc(t)
		}
		for _, platform := range []string{"linux/amd64", "linux/arm64"} {
			t.Run(isolation+"/"+platform, func(t *testing.T) {
				got := isolationProbe(t, isolation, platform, pid)
				wantDev := minimalDev
				if isolation == "oci" {
					wantDev = append(slices.Clone(minimalDev), "mqueue")
					slices.Sort(wantDev)
				}
				checks := []struct {
					what string
					ok   bool
				}{
					{"reading the host sleep's /proc/PID/cmdline fails", got["read"] == "failed"},
					{"kill -STOP of the host sleep fails", got["stop"] == "failed"},
					{"the step's own PID is low (a PID namespace)", lowPID(got["self"])},
					{"PID 1 is not the host's init", got["pid1"] != "" && got["pid1"] != strings.TrimSpace(strings.ReplaceAll(string(hostInit), "\x00", " "))},
					{"/dev holds " + strings.Join(wantDev, " "), got["dev"] == strings.Join(wantDev, " ")},
					{"the IPC namespace is not the host's " + hostIPC, strings.HasPrefix(got["ipc"], "ipc:[") && got["ipc"] != hostIPC},
					{"the hostname is not the host's " + hostName, got["host"] != "" && got["host"] != hostName},
				}
				for _, c := range checks {
					if !c.ok {
						t.Errorf("%s: the step reported %v", c.what, got)
					}
				}
				if state := procState(t, pid); state != "S" && state != "R" {
					t.Errorf("host sleep %d is in state %q after the build, want it running (S or R), not stopped (T)", pid, state)
				}
			})
		}
	}
}

// isolationProbe builds a step that reports, as "ISO key=value" lines,
// what it can see and do, and returns those values.
func isolationProbe(t *testing.T, isolation, platform string, hostPID int) map[string]string {
	t.Helper()
	p := strconv.Itoa(hostPID)
	step := `RUN echo "ISO self=$$"; ` +
		`echo "ISO pid1=$(tr '\0' ' ' </proc/1/cmdline)"; ` +
		`if cat /proc/` + p + `/cmdline >/dev/null 2>&1; then echo "ISO read=ok"; else echo "ISO read=failed"; fi; ` +
		`if kill -STOP ` + p + ` 2>/dev/null; then echo "ISO stop=sent"; else echo "ISO stop=failed"; fi; ` +
		`echo "ISO dev=$(ls /dev | tr '\n' ' ')"; ` +
		`echo "ISO ipc=$(readlink /proc/self/ns/ipc)"; ` +
		`echo "ISO host=$(hostname)"` + "\n"
	ctxDir := writeContext(t, "FROM oci:busybox-oci:3arch\n"+step, nil)
	copyPath(t, filepath.Join(env.Fixtures, "busybox-oci"), filepath.Join(ctxDir, "busybox-oci"))
	s := newStore(t)
	r := polyarch(t, s, "build", "--isolation", isolation, "--platform", platform, ctxDir)
	mustSucceed(t, r)
	got := map[string]string{}
	for _, line := range strings.Split(r.Stdout+"\n"+r.Stderr, "\n") {
		if _, after, ok := strings.Cut(line, "] "); ok && strings.HasPrefix(line, "[") {
			line = after // the platform prefix
		}
		rest, ok := strings.CutPrefix(line, "ISO ")
		if !ok {
			continue
		}
		if k, v, ok := strings.Cut(rest, "="); ok {
			got[k] = strings.TrimSpace(v)
		}
	}
	if len(got) != 7 {
		t.Fatalf("the step reported %d values, want 7: %v", len(got), got)
	}
	return got
}

// lowPID reports whether s is a PID below 100: one of the first
// processes of a new PID namespace (threads take PIDs too).
func lowPID(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n < 100
}

// procState returns the state letter of a process (R, S, T, Z...).
func procState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("host sleep %d is gone: %v", pid, err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return fields[0]
}

// requireRunc fails the test unless runc, the OCI runtime .ci/setup
// installs for --isolation oci, is in PATH.
func requireRunc(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("runc"); err != nil {
		t.Fatalf("runc is required for the --isolation oci tests: run .ci/setup (apt-get install runc): %v", err)
	}
}

// TestInfoReportsIsolation checks that polyarch info says builds use
// chroot and why, and which OCI runtime --isolation oci would use: runc,
// which .ci/setup installs (Debian 12's crun is too old for buildah).
func TestInfoReportsIsolation(t *testing.T) {
	requireRunc(t)
	s := newStore(t)
	r := polyarch(t, s, "info", "--format", "json")
	mustSucceed(t, r)
	var info struct {
		Isolation struct {
			Default     string   `json:"default"`
			Reason      string   `json:"reason"`
			OCIRuntime  string   `json:"ociRuntime"`
			OCIRuntimes []string `json:"ociRuntimes"`
		} `json:"isolation"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &info); err != nil {
		t.Fatalf("info --format json: %v", err)
	}
	in := info.Isolation
	if in.Default != "chroot" || !strings.Contains(in.Reason, "PID, IPC, UTS and mount namespaces") {
		t.Errorf("isolation default %q, reason %q: want chroot, saying what a RUN step gets", in.Default, in.Reason)
	}
	if filepath.Base(in.OCIRuntime) != "runc" || !slices.ContainsFunc(in.OCIRuntimes, func(s string) bool { return strings.HasSuffix(s, "runc: works") }) {
		t.Errorf("ociRuntime %q, probes %q: want runc, working", in.OCIRuntime, in.OCIRuntimes)
	}
	text := polyarch(t, s, "info")
	mustSucceed(t, text)
	if !strings.Contains(text.Stdout, "isolation:\n  builds use: chroot (") || !strings.Contains(text.Stdout, "--isolation oci: "+in.OCIRuntime) {
		t.Errorf("info text lacks the isolation section:\n%s", text.Stdout)
	}
}

// TestIsolationUsageError checks that an unknown --isolation is a usage
// error naming the choices, before any work.
func TestIsolationUsageError(t *testing.T) {
	ctxDir := writeContext(t, "FROM oci:busybox-oci:3arch\nRUN true\n", nil)
	r := polyarch(t, newStore(t), "build", "--isolation", "rootless", ctxDir)
	if r.Code != 125 || !strings.Contains(r.Stderr, `invalid --isolation "rootless": use chroot`) || !strings.Contains(r.Stderr, "or oci") {
		t.Errorf("exit %d, stderr %q: want 125 naming chroot and oci", r.Code, r.Stderr)
	}
}

// TestIsolationOCIWithoutRuntime checks that --isolation oci with no OCI
// runtime that works fails before any step, naming the runtimes tried
// and the fallback.
func TestIsolationOCIWithoutRuntime(t *testing.T) {
	ctxDir := writeContext(t, "FROM oci:busybox-oci:3arch\nRUN true\n", nil)
	copyPath(t, filepath.Join(env.Fixtures, "busybox-oci"), filepath.Join(ctxDir, "busybox-oci"))
	// PATH holds only what a rootless polyarch needs besides a runtime.
	bin := t.TempDir()
	for _, tool := range []string{"newuidmap", "newgidmap"} {
		if p, err := exec.LookPath(tool); err == nil {
			if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := newStore(t)
	r := runCmd(t, "", "env", append([]string{"PATH=" + bin, env.Bin}, append(s.flags(), "build", "--isolation", "oci", "--platform", "linux/amd64", ctxDir)...)...)
	want := "--isolation oci: no OCI runtime works here (crun: not found in PATH; runc: not found in PATH): install crun or runc, or use --isolation chroot"
	if r.Code != 1 || !strings.Contains(r.Stderr, want) || strings.Contains(r.Stdout+r.Stderr, "STEP") {
		t.Errorf("exit %d, stderr %q: want 1 and %q before any step", r.Code, r.Stderr, want)
	}
}
