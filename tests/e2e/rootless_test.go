package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// rootlessRun is true when the suite runs as the unprivileged CI user.
var rootlessRun = os.Getenv("POLYARCH_E2E_ROOTLESS") == "1"

// requireRoot stops a test that needs root: a skip in the declared
// rootless run (the root run covers it), a failure anywhere else.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if rootlessRun {
		t.Skip("needs root; covered by the root run of the suite")
	}
	t.Fatal("this test needs root: run the suite as root (make e2e) or declare the rootless run with POLYARCH_E2E_ROOTLESS=1")
}

// TestOwnershipIsExact: a RUN chown in a foreign-arch stage gives uid/gid
// 1000 in the layer tar, and files of the base keep their owners.
func TestOwnershipIsExact(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN touch /f && chown 1000:1000 /f && mkdir /d && chown 1001:1002 /d\n", nil)
	out := filepath.Join(t.TempDir(), "out")
	mustSucceed(t, polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/arm64", "-o", "type=oci,dest="+out, ctxDir))
	l := layout{t: t, dir: out}
	_, _, idx := l.top()
	for _, tc := range []struct {
		path     string
		uid, gid int
	}{{"/f", 1000, 1000}, {"/d", 1001, 1002}, {"/home/app/owned", 1000, 1000}, {"/home/app", 1000, 1000}, {"/bin/busybox", 0, 0}} {
		h, _, err := l.entry(idx, 0, tc.path)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if h.Uid != tc.uid || h.Gid != tc.gid {
			t.Errorf("%s is owned by %d:%d in the layer, want %d:%d", tc.path, h.Uid, h.Gid, tc.uid, tc.gid)
		}
	}
}

// TestInfoJSON checks the fields a bug report relies on.
func TestInfoJSON(t *testing.T) {
	s := newStore(t)
	r := polyarch(t, s, "info", "--format", "json")
	mustSucceed(t, r)
	var info struct {
		Host struct {
			Rootless       bool     `json:"rootless"`
			UID            int      `json:"uid"`
			UserNamespaces bool     `json:"userNamespaces"`
			UIDMap         []string `json:"uidMap"`
			Kernel         string   `json:"kernel"`
		} `json:"host"`
		Store struct {
			Driver, DriverReason, GraphRoot, RunRoot string
		} `json:"store"`
		Emulation struct {
			PrivateSupported bool `json:"privateSupported"`
			Emulators        []struct {
				Platform, Interpreter string
				Native                bool
			} `json:"emulators"`
		} `json:"emulation"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &info); err != nil {
		t.Fatalf("info --format json: %v", err)
	}
	if info.Host.Rootless != (os.Geteuid() != 0) || info.Host.UID != os.Geteuid() {
		t.Errorf("host.rootless=%v uid=%d, running as uid %d", info.Host.Rootless, info.Host.UID, os.Geteuid())
	}
	if info.Host.Kernel == "" || !info.Host.UserNamespaces || len(info.Host.UIDMap) == 0 {
		t.Errorf("host facts missing: %+v", info.Host)
	}
	if rootlessRun && len(info.Host.UIDMap) < 2 {
		t.Errorf("rootless uid map %v lacks the /etc/subuid range", info.Host.UIDMap)
	}
	if info.Store.Driver != "overlay" || info.Store.DriverReason != "configured (--storage-driver)" || info.Store.GraphRoot != s.Root || info.Store.RunRoot != s.RunRoot {
		t.Errorf("store = %+v, want overlay configured (--storage-driver) at %s, %s", info.Store, s.Root, s.RunRoot)
	}
	if !info.Emulation.PrivateSupported {
		t.Errorf("private binfmt_misc reported unsupported on this kernel")
	}
	found := false
	for _, e := range info.Emulation.Emulators {
		if e.Platform == "linux/arm64" && strings.HasSuffix(e.Interpreter, "qemu-aarch64-static") {
			found = true
		}
	}
	if !found {
		t.Errorf("no linux/arm64 emulator reported: %+v", info.Emulation.Emulators)
	}
}

// TestSingleMappingFallback builds as a user without /etc/subuid ranges:
// ownership collapses with a warning, and RUN chown to another uid fails
// with a hint about /etc/subuid.
func TestSingleMappingFallback(t *testing.T) {
	requireRoot(t)
	user := strings.TrimSpace(mustOutput(t, "tests/e2e/nosubuid.sh"))
	dir, err := os.MkdirTemp("", "pa")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctxDir := filepath.Join(dir, "ctx")
	if err := os.MkdirAll(ctxDir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyPath(t, filepath.Join(env.Fixtures, "busybox-3arch.tar"), filepath.Join(ctxDir, "busybox.tar"))
	write := func(cf string) {
		if err := os.WriteFile(filepath.Join(ctxDir, "Containerfile"), []byte(cf), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustSucceed(t, runCmd(t, "", "chown", "-R", user+":"+user, dir))
	asUser := func(args ...string) result {
		base := []string{"--reuid=" + user, "--regid=" + user, "--init-groups", "env", "-i", "HOME=" + dir, "USER=" + user, "PATH=/usr/bin:/bin", env.Bin,
			"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run")}
		return runCmd(t, "", "setpriv", append(base, args...)...)
	}
	write("FROM oci-archive:busybox.tar\nRUN uname -m > /arch.txt\n")
	r := asUser("build", "--platform", "linux/amd64,linux/arm64", ctxDir)
	mustSucceed(t, r)
	if !strings.Contains(r.Stderr, "collapse to root") || !strings.Contains(r.Stderr, "--add-subuids") {
		t.Errorf("no single-mapping warning: %s", r.Stderr)
	}
	write("FROM oci-archive:busybox.tar\nRUN touch /f && chown 1000:1000 /f\n")
	r = asUser("build", "--platform", "linux/arm64", ctxDir)
	if r.Code == 0 || !strings.Contains(r.Stderr, "/etc/subuid") {
		t.Errorf("RUN chown 1000 under a single mapping: exit %d, want a failure naming /etc/subuid: %s", r.Code, r.Stderr)
	}
}

// mustOutput runs a command from the repository root and returns stdout.
func mustOutput(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return string(out)
}

// repoRoot is two directories above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..")
}

// TestRootlessWithoutUidmap: an ordinary user without newuidmap gets an
// error naming the uidmap package before anything runs.
func TestRootlessWithoutUidmap(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("tests an ordinary user; covered by the rootless run")
	}
	empty := t.TempDir()
	cmd := exec.Command(env.Bin, "build", "--platform", "linux/arm64", writeContext(t, "FROM scratch\nCOPY a /a\n", map[string]string{"a": "a"}))
	cmd.Env = append(os.Environ(), "PATH="+empty)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "newuidmap is not installed: install the uidmap package") {
		t.Errorf("without newuidmap: %v, %s", err, out)
	}
}

// TestRootlessBadRuntimeDir: an ordinary user whose XDG_RUNTIME_DIR is
// not theirs gets an error saying so before anything runs.
func TestRootlessBadRuntimeDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("tests an ordinary user; covered by the rootless run")
	}
	cmd := exec.Command(env.Bin, "build", "--platform", "linux/arm64", writeContext(t, "FROM scratch\nCOPY a /a\n", map[string]string{"a": "a"}))
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR=/root")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "XDG_RUNTIME_DIR=/root") {
		t.Errorf("with XDG_RUNTIME_DIR=/root: %v, %s", err, out)
	}
}
