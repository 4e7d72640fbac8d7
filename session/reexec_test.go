package session

import (
	"os/exec"
	"testing"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
)

// TestExitStatus runs real child processes and checks the status main
// exits with after a re-execution: the child's, or 128+N for signal N.
func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		want         int
	}{
		{name: "success", script: "exit 0", want: 0},
		{name: "usage error", script: "exit 125", want: 125},
		{name: "SIGTERM", script: "kill -TERM $$", want: 143},
		{name: "SIGINT", script: "kill -INT $$", want: 130},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := exitStatus(exec.Command("sh", "-c", tc.script).Run())
			if err != nil || got != tc.want {
				t.Errorf("exit status of `%s` = %d, %v; want %d", tc.script, got, err, tc.want)
			}
		})
	}
	if _, err := exitStatus(exec.Command("/nonexistent/polyarch").Run()); err == nil {
		t.Errorf("a child that never ran gave no error")
	}
}

// TestConsecutive checks the re-executed process's ID map: the user as
// 0, then the subordinate ranges one after another, as storage builds it.
func TestConsecutive(t *testing.T) {
	got := consecutive(1002, []rspec.LinuxIDMapping{{HostID: 200000, Size: 65536}, {HostID: 400000, Size: 10}})
	want := []rspec.LinuxIDMapping{{ContainerID: 0, HostID: 1002, Size: 1}, {ContainerID: 1, HostID: 200000, Size: 65536}, {ContainerID: 65537, HostID: 400000, Size: 10}}
	if len(got) != len(want) {
		t.Fatalf("consecutive = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mapping %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
