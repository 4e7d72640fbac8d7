package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestKilledBuildLeftovers SIGKILLs a build's whole process group in the
// middle of a RUN step, which leaves the build's working container in
// the store, and adds the directories a kill inside containers/storage's
// DeleteContainer leaves (the container's record gone, its directories in
// the graph root and the run root not yet): then polyarch prune --force,
// or the next build, removes them all; the store has no container
// directory left, no layer mounted and passes check-store.
func TestKilledBuildLeftovers(t *testing.T) {
	for _, cleaner := range []string{"prune", "next build"} {
		t.Run(cleaner, func(t *testing.T) {
			s := newStore(t)
			killBuildMidRun(t, s)
			if dirs := containerDirs(t, s); len(dirs) == 0 {
				t.Fatalf("the killed build left no container directory: nothing to check")
			}
			orphans := plantOrphanContainerDirs(t, s)
			var r result
			if cleaner == "prune" {
				r = polyarch(t, s, "prune", "--force")
				mustSucceed(t, r)
				for _, o := range orphans {
					if !strings.Contains(r.Stdout, "Deleted directory of a container with no record: "+o) {
						t.Errorf("prune does not report removing %s: %s", o, r.Stdout)
					}
				}
			} else {
				ctxDir := writeContext(t, "FROM scratch\nCOPY Containerfile /\n", nil)
				r = polyarch(t, s, "build", "--quiet", "--platform", "linux/amd64", "-t", "localhost/after:1", ctxDir)
				mustSucceed(t, r)
				if !strings.Contains(r.Stderr, "that killed builds left in") {
					t.Errorf("the next build does not say it removed what the killed one left: %s", r.Stderr)
				}
			}
			if dirs := containerDirs(t, s); len(dirs) > 0 {
				t.Errorf("container directories left after %s: %v", cleaner, dirs)
			}
			ps := podman(t, s, "ps", "--all", "--external", "--quiet")
			mustSucceed(t, ps)
			if strings.TrimSpace(ps.Stdout) != "" {
				t.Errorf("containers left after %s: %q", cleaner, ps.Stdout)
			}
			if m := mountsUnder(s.Root); len(m) > 0 {
				t.Errorf("layers still mounted after %s: %v", cleaner, m)
			}
			mustSucceed(t, polyarch(t, s, "check-store"))
		})
	}
}

// killBuildMidRun starts a build whose RUN step sleeps, as the leader of
// its process group, and SIGKILLs the group once the sleep runs.
func killBuildMidRun(t *testing.T, s store) {
	t.Helper()
	marker := newMarker()
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN dd if=/dev/zero of=/fill bs=1M count=4; sleep "+marker+"\n", nil)
	t.Cleanup(func() { unmountContextOverlays(ctxDir) })
	args := append(s.flags(), "build", "--tls-verify=false", "--platform", "linux/amd64", "-t", "localhost/killed:1", ctxDir)
	cmd := exec.Command(env.Bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killMarked(marker) })
	deadline := time.Now().Add(40 * time.Second)
	for len(marked(marker)) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if len(marked(marker)) == 0 {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		t.Fatalf("the RUN step's sleep did not start: %s", stderr.String())
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Wait()
	killMarked(marker) // in a PID namespace of its own, the sleep dies with its parent anyway
	t.Logf("killed the build's process group mid-RUN:\n%s", stderr.String())
}

// containerIDDir is a container directory's name: the container's ID.
var containerIDDir = regexp.MustCompile(`^[0-9a-f]{64}$`)

// containerDirs lists the container directories of s, in the graph root
// and in the run root.
func containerDirs(t *testing.T, s store) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{filepath.Join(s.Root, "overlay-containers"), filepath.Join(s.RunRoot, "overlay-containers")} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.IsDir() && containerIDDir.MatchString(e.Name()) {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	return out
}

// plantOrphanContainerDirs makes what a process killed inside
// containers/storage's DeleteContainer leaves, between the removal of
// the container's record and of its directories: a directory in the
// graph root and one in the run root, for an ID no record names.
func plantOrphanContainerDirs(t *testing.T, s store) []string {
	t.Helper()
	id := strings.Repeat("ab", 32)
	var out []string
	for _, dir := range []string{filepath.Join(s.Root, "overlay-containers", id, "userdata"), filepath.Join(s.RunRoot, "overlay-containers", id, "userdata")} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "buildah.json"), []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		out = append(out, filepath.Dir(dir))
	}
	return out
}

// mountsUnder lists the mount points under dir in this mount namespace.
func mountsUnder(dir string) []string {
	info, _ := os.ReadFile("/proc/self/mountinfo")
	var out []string
	for _, line := range strings.Split(string(info), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			out = append(out, f[4])
		}
	}
	return out
}

// unmountContextOverlays unmounts the overlays buildah mounted over
// ctxDir for a build killed before it could, should one be in the host's
// mount namespace (polyarch builds in a mount namespace of its own, root
// or rootless, so they go with it: TestKilledBuildLeavesNoMounts).
func unmountContextOverlays(ctxDir string) {
	info, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(info), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.Contains(line, "lowerdir="+ctxDir+",") {
			_ = unix.Unmount(f[4], unix.MNT_DETACH)
			_ = os.RemoveAll(strings.SplitN(f[4], "/overlay/", 2)[0])
		}
	}
}
