// Package e2e runs the polyarch binary end to end against real peers: a
// distribution registry on 127.0.0.1, containers-storage in temporary
// roots, qemu-user-static, podman and skopeo.
package e2e

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env is the shared state of the suite, set up once in TestMain.
var env struct {
	Bin         string // the polyarch binary under test
	Fixtures    string // output of tests/fixtures/make-bases.sh
	Registry    string // host:port of the registry on loopback
	RegistryLog string // its log, including the access log
	SkopeoAuth  string // an empty credentials file for skopeo (see skopeo)
}

func TestMain(m *testing.M) {
	if os.Getenv(noIA32Env) != "" { // a wrapper, see kernel386_test.go
		os.Exit(execWithoutIA32(os.Args[1:]))
	}
	os.Exit(run(m))
}

// run prepares the suite and runs it; a missing prerequisite is a failure,
// never a skip.
func run(m *testing.M) int {
	env.Bin, env.Fixtures = os.Getenv("POLYARCH_BIN"), os.Getenv("POLYARCH_FIXTURES")
	if env.Bin == "" || env.Fixtures == "" {
		fmt.Fprintln(os.Stderr, "e2e: POLYARCH_BIN and POLYARCH_FIXTURES must be set: run `make e2e`")
		return 1
	}
	for _, tool := range []string{"skopeo", "podman", "docker-registry"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %s is required (apt-get install %s)\n", tool, tool)
			return 1
		}
	}
	dir, err := os.MkdirTemp("", "polyarch-registry-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	env.SkopeoAuth = filepath.Join(dir, "skopeo-auth.json")
	if err := os.WriteFile(env.SkopeoAuth, []byte(`{"auths":{}}`), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stop, addr, err := startRegistry(dir, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting registry:", err)
		return 1
	}
	defer stop()
	env.Registry, env.RegistryLog = addr, filepath.Join(dir, "registry.log")
	if err := seedRegistry(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: seeding registry:", err)
		return 1
	}
	return m.Run()
}

// startRegistry runs Debian's docker-registry (distribution v2) on a free
// loopback port with storage in dir. extraConfig is appended to its YAML.
func startRegistry(dir, extraConfig string) (stop func(), addr string, err error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n%s",
		filepath.Join(dir, "data"), addr, extraConfig)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, "", err
	}
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command("docker-registry", "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); logf.Close() }
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return stop, addr, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return nil, "", fmt.Errorf("registry on %s did not answer within 15s (log: %s)", addr, logf.Name())
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// seedRegistry pushes the fixture bases to the registry with skopeo.
func seedRegistry() error {
	for ref, repo := range map[string]string{
		"latest": "busybox:latest", "3arch": "busybox:3arch", "amd64": "busybox:amd64",
	} {
		src := "oci:" + filepath.Join(env.Fixtures, "busybox-oci") + ":" + ref
		cmd := exec.Command("skopeo", "copy", "--all", "--quiet", "--dest-tls-verify=false", src, "docker://"+env.Registry+"/"+repo)
		cmd.Env = append(os.Environ(), "REGISTRY_AUTH_FILE="+env.SkopeoAuth)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("skopeo copy %s: %v: %s", src, err, out)
		}
	}
	return nil
}

// store is a private containers-storage for one test.
type store struct {
	Root, RunRoot string
}

// newStore returns an empty store, removed after the test. Its paths are
// short: podman 4.3 refuses a run root longer than 50 characters.
func newStore(t *testing.T) store {
	t.Helper()
	d, err := os.MkdirTemp("", "pa")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeStore(t, d) })
	return store{Root: filepath.Join(d, "root"), RunRoot: filepath.Join(d, "run")}
}

// removeStore deletes a test store; as an ordinary user, files owned by
// subordinate uids are removed from inside the user namespace.
func removeStore(t *testing.T, dir string) {
	if os.RemoveAll(dir) == nil {
		return
	}
	if out, err := exec.Command("podman", "unshare", "rm", "-rf", dir).CombinedOutput(); err != nil {
		t.Errorf("removing test store %s: %v: %s", dir, err, out)
	}
}

// flags returns the global flags selecting the store, for polyarch and podman.
func (s store) flags() []string {
	return []string{"--root", s.Root, "--runroot", s.RunRoot, "--storage-driver", "overlay"}
}

// result is a finished command.
type result struct {
	Code           int
	Stdout, Stderr string
	Elapsed        time.Duration
}

// runCmd runs a command, logging it and its output to the test log.
func runCmd(t *testing.T, dir string, name string, args ...string) result {
	t.Helper()
	t.Logf("$ %s %s", name, strings.Join(args, " "))
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := result{Stdout: stdout.String(), Stderr: stderr.String(), Elapsed: time.Since(start)}
	if err != nil {
		res.Code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			res.Code = ee.ExitCode()
		}
	}
	t.Logf("exit %d in %s\nstdout:\n%s\nstderr:\n%s", res.Code, res.Elapsed.Round(time.Millisecond), res.Stdout, res.Stderr)
	return res
}

// skopeo runs skopeo with an empty credentials file of the suite's own.
// Without it, skopeo (unlike polyarch) fails for a user without a login
// session once root has used podman: it reads /run/containers/$UID/auth.json,
// which /run/containers mode 0700 makes unreadable.
func skopeo(t *testing.T, args ...string) result {
	t.Helper()
	return runCmd(t, "", "env", append([]string{"REGISTRY_AUTH_FILE=" + env.SkopeoAuth, "skopeo"}, args...)...)
}

// polyarch runs the binary under test with the store's flags.
func polyarch(t *testing.T, s store, args ...string) result {
	t.Helper()
	return runCmd(t, "", env.Bin, append(s.flags(), args...)...)
}

// mustSucceed fails the test unless r exited 0.
func mustSucceed(t *testing.T, r result) {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("command failed with exit %d: %s", r.Code, r.Stderr)
	}
}

// podman runs podman on the store.
func podman(t *testing.T, s store, args ...string) result {
	t.Helper()
	return runCmd(t, "", "podman", append(s.flags(), args...)...)
}

// writeContext makes a build context holding a Containerfile and files.
func writeContext(t *testing.T, containerfile string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Containerfile"), []byte(containerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// registryBase is the fixture base pushed to the test registry.
func registryBase(tag string) string {
	return env.Registry + "/busybox:" + tag
}

// mkdirAll and symlink are os helpers kept here for the fault tests.
func mkdirAll(dir string) error         { return os.MkdirAll(dir, 0o755) }
func symlink(target, link string) error { return os.Symlink(target, link) }
