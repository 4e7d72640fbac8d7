package emulation

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"go.podman.io/storage/pkg/reexec"
)

// helperEnv selects a namespace helper when the test binary re-executes
// itself inside a new user and mount namespace.
const helperEnv = "POLYARCH_EMULATION_TEST_HELPER"

// helpers run inside private namespaces started by runInNamespace. They
// print progress to stdout and return an error on failure.
var helpers = map[string]func() error{}

func TestMain(m *testing.M) {
	if reexec.Init() { // Status's private check
		return
	}
	if name := os.Getenv(helperEnv); name != "" {
		os.Exit(runHelper(name))
	}
	os.Exit(m.Run())
}

func runHelper(name string) int {
	h, ok := helpers[name]
	if !ok {
		fmt.Printf("unknown helper %q\n", name)
		return 2
	}
	if err := enterPrivateMounts(); err != nil {
		fmt.Printf("FAIL: %v\n", err)
		return 1
	}
	if err := h(); err != nil {
		fmt.Printf("FAIL: %v\n", err)
		return 1
	}
	return 0
}

// enterPrivateMounts is the helpers' safety net: it aborts unless this
// process is outside the initial user namespace, then makes every mount
// private so nothing propagates out.
func enterPrivateMounts() error { return isolateMounts() }

// runInNamespace re-executes the test binary in a new user namespace (the
// caller's uid and gid mapped to 0) and mount namespace, running helper
// name, and returns its output.
func runInNamespace(name string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), helperEnv+"="+name)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// requireNamespaces skips when the kernel cannot give a user namespace its
// own binfmt_misc.
func requireNamespaces(t *testing.T) {
	t.Helper()
	if ok, why := PrivateSupported(); !ok {
		t.Skipf("private binfmt_misc not supported here: %s", why)
	}
}

// testInNamespace runs helper name in a private namespace and fails t with
// its output if it fails.
func testInNamespace(t *testing.T, name string) {
	t.Helper()
	requireNamespaces(t)
	out, err := runInNamespace(name)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		t.Log(line)
	}
	if err != nil {
		t.Fatalf("helper %s in a private user+mount namespace: %v", name, err)
	}
}

// step prints one line of helper progress.
func step(format string, args ...any) { fmt.Printf(format+"\n", args...) }
