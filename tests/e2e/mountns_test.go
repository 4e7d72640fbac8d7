package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKilledBuildLeavesNoMounts SIGKILLs a build in the middle of a RUN
// step, polyarch's PID alone or its whole process group: what the build
// mounted (buildah's overlay over the build context, the layers of its
// working container) was only ever in polyarch's own mount namespace, so
// the host's shows none of it, during the build or after; polyarch prune
// --force, or the next build, removes the build's run directory in
// TMPDIR (no buildah-context-* directory is left); the store then passes
// check-store and podman reads it; a next build succeeds.
func TestKilledBuildLeavesNoMounts(t *testing.T) {
	for _, tc := range []struct {
		name, cleaner string
		group         bool
	}{
		{"group/prune", "prune", true},
		{"group/next build", "next build", true},
		{"pid/prune", "prune", false},
		{"pid/next build", "next build", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t) // podman wants a short run root: not in TMPDIR
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			killWithMountsInside(t, s, tmp, tc.group)
			if m := hostMountsUnder(tmp, s.Root); len(m) > 0 {
				t.Errorf("after the kill, the host's mount namespace still has:\n%s", strings.Join(m, "\n"))
			}
			if left := runLeftovers(tmp); len(left) == 0 {
				t.Errorf("the killed build left no run directory in %s: nothing for %s to remove", tmp, tc.cleaner)
			}
			if tc.cleaner == "prune" {
				r := polyarch(t, s, "prune", "--force")
				mustSucceed(t, r)
				if !strings.Contains(r.Stdout, "Removed the run directory of a dead build: "+filepath.Join(tmp, "polyarch-run-")) {
					t.Errorf("prune does not report removing the run directory: %s", r.Stdout)
				}
			} else {
				r := polyarch(t, s, "build", "--quiet", "--platform", "linux/amd64", "-t", "localhost/after:1", writeContext(t, "FROM scratch\nCOPY Containerfile /\n", nil))
				mustSucceed(t, r)
				if !strings.Contains(r.Stderr, "that killed builds left in") {
					t.Errorf("the next build does not say it removed what the killed one left: %s", r.Stderr)
				}
			}
			if left := runLeftovers(tmp); len(left) > 0 {
				t.Errorf("left in TMPDIR after %s: %v", tc.cleaner, left)
			}
			if m := hostMountsUnder(tmp, s.Root); len(m) > 0 {
				t.Errorf("mounted after %s:\n%s", tc.cleaner, strings.Join(m, "\n"))
			}
			mustSucceed(t, polyarch(t, s, "check-store"))
			mustSucceed(t, podman(t, s, "images"))
			mustSucceed(t, polyarch(t, s, "build", "--quiet", "--tls-verify=false", "--platform", "linux/amd64", "-t", "localhost/again:1",
				writeContext(t, "FROM "+registryBase("latest")+"\nRUN echo again > /again\n", nil)))
			if left := runLeftovers(tmp); len(left) > 0 {
				t.Errorf("a successful build left in TMPDIR: %v", left)
			}
		})
	}
}

// killWithMountsInside starts a build whose RUN step sleeps, waits for
// the sleep, checks that the overlay over the build context is mounted in
// polyarch's namespace and not in the host's, and SIGKILLs polyarch's
// process group (group) or its PID alone.
func killWithMountsInside(t *testing.T, s store, tmp string, group bool) {
	t.Helper()
	marker := newMarker()
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN sleep "+marker+"\n", nil)
	args := append(s.flags(), "build", "--tls-verify=false", "--platform", "linux/amd64", "-t", "localhost/killed:1", ctxDir)
	cmd := exec.Command(env.Bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killMarked(marker) })
	kill := func() {
		if group {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		} else {
			_ = cmd.Process.Kill()
		}
		_ = cmd.Wait()
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(marked(marker)) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if len(marked(marker)) == 0 {
		kill()
		t.Fatalf("the RUN step's sleep did not start: %s", stderr.String())
	}
	inside := namespaceMountsUnder(t, cmd.Process.Pid, tmp, s.Root)
	t.Logf("during the RUN, polyarch's mount namespace has under %s and %s:\n%s", tmp, s.Root, strings.Join(inside, "\n"))
	if os.Geteuid() == 0 && !containsMerge(inside) {
		t.Errorf("no overlay over the build context under %s in polyarch's mount namespace: nothing was checked", tmp)
	}
	if m := hostMountsUnder(tmp, s.Root); len(m) > 0 {
		t.Errorf("during the RUN, the host's mount namespace has the build's mounts:\n%s", strings.Join(m, "\n"))
	}
	children := childrenOf(cmd.Process.Pid)
	kill()
	killMarked(marker)
	// Killed alone, polyarch's PID takes its namespace's process down
	// with it (parent-death signal), a moment later.
	for time.Now().Before(deadline) && (len(marked(marker)) > 0 || anyAlive(children)) {
		time.Sleep(50 * time.Millisecond)
	}
	if anyAlive(children) {
		t.Errorf("polyarch's re-executed process outlived it by a minute: %v", children)
	}
	t.Logf("killed (group: %v) mid-RUN:\n%s", group, stderr.String())
}

// namespaceMountsUnder lists the mounts under dirs of the process that
// builds: the child of pid that polyarch re-executed in its namespace.
func namespaceMountsUnder(t *testing.T, pid int, dirs ...string) []string {
	t.Helper()
	for _, child := range childrenOf(pid) {
		if m := mountsIn(strconv.Itoa(child), dirs...); len(m) > 0 {
			return m
		}
	}
	return nil
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	var out []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		stat, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
			if f := strings.Fields(string(stat)[i+1:]); len(f) > 1 && f[1] == strconv.Itoa(pid) {
				n, _ := strconv.Atoi(filepath.Base(d))
				out = append(out, n)
			}
		}
	}
	return out
}

// anyAlive reports whether one of pids still runs (neither gone nor a
// zombie).
func anyAlive(pids []int) bool {
	for _, p := range pids {
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p), "stat"))
		if i := strings.LastIndexByte(string(stat), ')'); err == nil && i > 0 && !strings.HasPrefix(string(stat)[i+1:], " Z") {
			return true
		}
	}
	return false
}

// mountsIn lists the mount points under any of dirs in the mount
// namespace of process pid ("self" for the test's, the host's).
func mountsIn(pid string, dirs ...string) []string {
	info, _ := os.ReadFile(filepath.Join("/proc", pid, "mountinfo"))
	var out []string
	for _, line := range strings.Split(string(info), "\n") {
		f := strings.Fields(line)
		for _, dir := range dirs {
			if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
				out = append(out, line)
			}
		}
	}
	return out
}

// hostMountsUnder lists the mounts under dirs in the host's mount
// namespace (the test's own).
func hostMountsUnder(dirs ...string) []string { return mountsIn("self", dirs...) }

// containsMerge reports whether one of mountinfo lines is buildah's
// overlay over a build context (.../buildah-context-*/overlay/N/merge).
func containsMerge(lines []string) bool {
	for _, l := range lines {
		if strings.Contains(l, "/buildah-context-") && strings.Contains(l, "/merge ") {
			return true
		}
	}
	return false
}

// runLeftovers lists what builds left in tmp: polyarch run directories
// and buildah-context-* directories, at the top or one level down.
func runLeftovers(tmp string) []string {
	var out []string
	for _, pattern := range []string{"polyarch-run-*", "buildah-context-*", "*/buildah-context-*"} {
		m, _ := filepath.Glob(filepath.Join(tmp, pattern))
		out = append(out, m...)
	}
	return out
}
