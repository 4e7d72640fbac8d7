package e2e

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// selfBuildPlatforms are the platforms of polyarch's own image the test
// builds; the values are the ELF machine each binary must have.
var selfBuildPlatforms = map[string]elf.Machine{"linux/amd64": elf.EM_X86_64, "linux/arm64": elf.EM_AARCH64}

// TestSelfBuild builds polyarch's own Containerfile (the repository root)
// for linux/amd64 and linux/arm64 into an OCI layout. The Go stage runs
// on the build platform: its base is the fixture busybox standing in for
// the golang image, with the host's /usr (Go in /usr/local/go, gcc and
// Debian's aarch64 cross compiler) and Go caches bind-mounted (-v); the
// runtime base is the fixture busybox of each platform. Each platform's
// /usr/local/bin/polyarch must be a static ELF of its machine (checked
// by debug/elf and by polyarch verify), and the amd64 one must run.
func TestSelfBuild(t *testing.T) {
	if os.Getenv("POLYARCH_E2E_ROOTLESS") != "" {
		t.Skip("the self-build compiles polyarch twice (minutes); the root run covers it, and the rootless user's Go cache is cold")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = "/usr/local/go/bin/go"
	}
	for _, tool := range []string{gobin, "x86_64-linux-gnu-gcc", "aarch64-linux-gnu-gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed for the self-build: install Go at /usr/local/go and gcc-aarch64-linux-gnu libc6-dev-arm64-cross (.ci/setup does)", tool)
		}
	}
	goEnv := strings.Fields(runCmd(t, "", gobin, "env", "GOMODCACHE", "GOCACHE").Stdout)
	if len(goEnv) != 2 || !strings.HasPrefix(runCmd(t, "", "readlink", "-f", gobin).Stdout, "/usr/") {
		t.Fatalf("go env gave %q and Go is not under /usr: the stand-in Go stage mounts the host's /usr", goEnv)
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "oci")
	s := newStore(t)
	start := time.Now()
	r := polyarch(t, s, "build", "--platform", "linux/amd64,linux/arm64", "--tls-verify=false",
		"--build-arg", "GOLANG_IMAGE="+registryBase("amd64"), "--build-arg", "RUNTIME_IMAGE="+registryBase("3arch"),
		"--build-arg", "RUNTIME_DEBS=", "--build-arg", "VERSION=selftest",
		"-v", "/usr:/usr:ro", "-v", "/usr/lib:/lib:ro", "-v", "/usr/lib64:/lib64:ro",
		"-v", goEnv[0]+":/root/go/pkg/mod", "-v", goEnv[1]+":/root/.cache/go-build",
		"-o", "type=oci,dest="+out, repo)
	mustSucceed(t, r)
	t.Logf("self-build of linux/amd64 and linux/arm64: %s", time.Since(start).Round(time.Second))
	l := layout{t, out}
	_, _, idx := l.top()
	if got := platformsOf(idx); !slices.Equal(got, []string{"linux/amd64", "linux/arm64"}) {
		t.Fatalf("the image lists %v", got)
	}
	for i, p := range platformsOf(idx) {
		h, content, err := l.entry(idx, i, "/usr/local/bin/polyarch")
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		checkStaticELF(t, p, []byte(content), selfBuildPlatforms[p])
		if p == "linux/amd64" {
			bin := filepath.Join(t.TempDir(), "polyarch")
			if err := os.WriteFile(bin, []byte(content), os.FileMode(h.Mode)&0o755); err != nil {
				t.Fatal(err)
			}
			if v := runCmd(t, "", bin, "--version"); v.Code != 0 || !strings.Contains(v.Stdout, "selftest") {
				t.Errorf("the amd64 binary's --version: exit %d, %q: want version selftest", v.Code, v.Stdout)
			}
		}
	}
	mustSucceed(t, polyarch(t, s, "verify", "oci:"+out))
}

// checkStaticELF checks that b is a static executable for machine.
func checkStaticELF(t *testing.T, platform string, b []byte, machine elf.Machine) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: /usr/local/bin/polyarch is not an ELF file: %v", platform, err)
	}
	if f.Machine != machine || f.Type != elf.ET_EXEC {
		t.Errorf("%s: /usr/local/bin/polyarch is %v %v, want %v ET_EXEC", platform, f.Machine, f.Type, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s: /usr/local/bin/polyarch has an ELF interpreter: want a static binary", platform)
		}
	}
}
