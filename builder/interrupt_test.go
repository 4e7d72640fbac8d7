package builder

import (
	"os"
	"os/exec"
	"slices"
	"testing"
)

// TestDescendantsOnlyRunTrees: on cancel only buildah's RUN runtimes and
// their children are signalled, not other children of the process.
func TestDescendantsOnlyRunTrees(t *testing.T) {
	runtime := exec.Command("sleep", "30")
	runtime.Args[0] = "buildah-chroot-runtime"
	other := exec.Command("sleep", "30")
	for _, c := range []*exec.Cmd{runtime, other} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	}
	got := descendants(os.Getpid(), isRuntime)
	if !slices.Contains(got, runtime.Process.Pid) {
		t.Errorf("RUN runtime %d not among %v", runtime.Process.Pid, got)
	}
	if slices.Contains(got, other.Process.Pid) {
		t.Errorf("unrelated child %d would be signalled: %v", other.Process.Pid, got)
	}
}
