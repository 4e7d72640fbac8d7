package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// proxyValue is the HTTP_PROXY polyarch runs with in the RUN environment
// tests; nothing listens there.
const proxyValue = "http://proxy.example:3128"

// TestRunStepEnvironment builds, for each isolation and a native and an
// emulated platform, a RUN step that reports its descriptors, network
// interfaces, whether it reaches the suite's registry on loopback and
// HTTP_PROXY (busybox nc: the fixtures' static busybox wget segfaults).
// polyarch starts with descriptors 10 (/dev/null) and 12 (a
// pipe) left open, as a shell or make leaves them. With --network none
// and HTTP_PROXY set: only 0, 1, 2 (and ls's own directory), only lo, no
// registry, the proxy seen by the step but absent from the image's Env.
// With --network host and --http-proxy=false: the registry answers and
// the proxy is not seen. Root and rootless runs alike.
func TestRunStepEnvironment(t *testing.T) {
	for _, isolation := range []string{"chroot", "oci"} {
		if isolation == "oci" {
			requireRunc(t)
		}
		for _, platform := range []string{"linux/amd64", "linux/arm64"} {
			t.Run(isolation+"/"+platform, func(t *testing.T) {
				s := newStore(t)
				none := runEnvProbe(t, s, isolation, platform, "--network", "none", "-t", "runenv:none")
				checkRunFDs(t, none)
				if none["net"] != "lo" {
					t.Errorf("--network none: interfaces %q, want lo only", none["net"])
				}
				if none["lo"] != "up" {
					t.Errorf("--network none: lo is %q, want up", none["lo"])
				}
				if none["reach"] != "failed" {
					t.Errorf("--network none: the registry on %s answered the step (%q)", env.Registry, none["reach"])
				}
				if none["proxy"] != proxyValue {
					t.Errorf("HTTP_PROXY in the step = %q, want %q (--http-proxy is on by default)", none["proxy"], proxyValue)
				}
				if e := imageEnv(t, s, "localhost/runenv:none"); slices.ContainsFunc(e, func(kv string) bool { return strings.Contains(strings.ToLower(kv), "proxy") }) {
					t.Errorf("the image's Env %q holds a proxy variable", e)
				}
				host := runEnvProbe(t, s, isolation, platform, "--network", "host", "--http-proxy=false", "--no-cache")
				checkRunFDs(t, host)
				if host["reach"] != "ok" {
					t.Errorf("--network host: the step could not reach the registry on %s (%q)", env.Registry, host["reach"])
				}
				if host["proxy"] != "" {
					t.Errorf("--http-proxy=false: HTTP_PROXY in the step = %q, want none", host["proxy"])
				}
			})
		}
	}
}

// runEnvProbe builds the probe step with extra flags, HTTP_PROXY set and
// descriptors 10 and 12 open, and returns what the step reported.
func runEnvProbe(t *testing.T, s store, isolation, platform string, flags ...string) map[string]string {
	t.Helper()
	step := `RUN echo "ENV fds=$(ls /proc/self/fd | tr '\n' ' ')"; ` +
		`echo "ENV links=$(ls -l /proc/self/fd | grep -o ' [0-9]* -> ' | tr -d ' >-' | tr '\n' ' ')"; ` +
		`echo "ENV net=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\n' ' ')"; ` +
		`if ip link show lo | grep -q 'LOOPBACK,UP'; then echo "ENV lo=up"; else echo "ENV lo=down"; fi; ` +
		`if printf 'GET /v2/ HTTP/1.0\r\n\r\n' | nc -w 5 ` + strings.Replace(env.Registry, ":", " ", 1) + ` 2>&1 | grep -q '^HTTP/1.. 200'; then echo "ENV reach=ok"; else echo "ENV reach=failed"; fi; ` +
		`echo "ENV proxy=$HTTP_PROXY"` + "\n"
	ctxDir := writeContext(t, "FROM oci:busybox-oci:3arch\n"+step, nil)
	copyPath(t, filepath.Join(env.Fixtures, "busybox-oci"), filepath.Join(ctxDir, "busybox-oci"))
	args := slices.Concat(s.flags(), []string{"build", "--isolation", isolation, "--platform", platform}, flags, []string{ctxDir})
	r := runWithOpenFiles(t, args...)
	mustSucceed(t, r)
	got := map[string]string{}
	for _, line := range strings.Split(r.Stdout+"\n"+r.Stderr, "\n") {
		if _, after, ok := strings.Cut(line, "] "); ok && strings.HasPrefix(line, "[") {
			line = after // the platform prefix
		}
		if rest, ok := strings.CutPrefix(line, "ENV "); ok {
			if k, v, ok := strings.Cut(rest, "="); ok {
				got[k] = strings.TrimSpace(v)
			}
		}
	}
	if len(got) != 6 {
		t.Fatalf("the step reported %d values, want 6: %v", len(got), got)
	}
	return got
}

// checkRunFDs checks that the step had descriptors 0, 1 and 2 only: ls
// lists one more, its own directory, closed by the time it reads links.
func checkRunFDs(t *testing.T, got map[string]string) {
	t.Helper()
	if got["links"] != "0 1 2" || (got["fds"] != "0 1 2" && got["fds"] != "0 1 2 3") {
		t.Errorf("the step's descriptors: %q (open with a target: %q), want 0 1 2 and ls's own directory", got["fds"], got["links"])
	}
}

// runWithOpenFiles runs polyarch with HTTP_PROXY set and, as a shell or
// make may leave them, /dev/null open on fd 10 and a pipe's write end on
// fd 12, both inheritable.
func runWithOpenFiles(t *testing.T, args ...string) result {
	t.Helper()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	t.Logf("$ HTTP_PROXY=%s %s %s (fds 10 and 12 open)", proxyValue, env.Bin, strings.Join(args, " "))
	cmd := exec.Command(env.Bin, args...)
	cmd.Env = append(os.Environ(), "HTTP_PROXY="+proxyValue)
	cmd.ExtraFiles = make([]*os.File, 10) // fd 3+i
	cmd.ExtraFiles[7], cmd.ExtraFiles[9] = devNull, pw
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
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

// imageEnv returns the Env of an image's config as podman reads it.
func imageEnv(t *testing.T, s store, ref string) []string {
	t.Helper()
	r := podman(t, s, "image", "inspect", "--format", "{{json .Config.Env}}", ref)
	mustSucceed(t, r)
	var e []string
	if err := json.Unmarshal([]byte(strings.TrimSpace(r.Stdout)), &e); err != nil {
		t.Fatalf("podman image inspect %s: %v", ref, err)
	}
	return e
}

// TestRunNetworkNoneStep checks that RUN --network=none in the
// Containerfile gives that step, under chroot isolation and the default
// --network host, a network namespace holding only lo, while the next
// step still has the host's interfaces.
func TestRunNetworkNoneStep(t *testing.T) {
	ctxDir := writeContext(t, "FROM oci:busybox-oci:3arch\n"+
		`RUN --network=none echo "NET none=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')"`+"\n"+
		`RUN echo "NET host=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')"`+"\n", nil)
	copyPath(t, filepath.Join(env.Fixtures, "busybox-oci"), filepath.Join(ctxDir, "busybox-oci"))
	hostIfs, err := os.ReadFile("/proc/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	r := polyarch(t, newStore(t), "build", "--platform", "linux/amd64", ctxDir)
	mustSucceed(t, r)
	out := r.Stdout + r.Stderr
	if !strings.Contains(out, "NET none=lo \n") {
		t.Errorf("RUN --network=none: the step's interfaces are not lo alone:\n%s", out)
	}
	if strings.Count(string(hostIfs), ":") > 1 && strings.Contains(out, "NET host=lo \n") {
		t.Errorf("the step after RUN --network=none lost the host's interfaces:\n%s", out)
	}
}
