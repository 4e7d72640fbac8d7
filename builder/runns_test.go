package builder

import (
	"slices"
	"testing"
)

func TestWithoutUnshareEnv(t *testing.T) {
	in := []string{"LOGLEVEL=4", "_Containers-unshare=0", "_Containers-pid-pipe=4", "_CONTAINERS_USERNS_CONFIGURED=done", "_Containers-continue-pipe=5"}
	got := withoutUnshareEnv(in)
	if want := []string{"LOGLEVEL=4", "_CONTAINERS_USERNS_CONFIGURED=done"}; !slices.Equal(got, want) {
		t.Errorf("withoutUnshareEnv = %q, want %q", got, want)
	}
	if len(in) != 5 {
		t.Errorf("withoutUnshareEnv changed its input: %q", in)
	}
}

func TestMinimalDevEntries(t *testing.T) {
	made := append(slices.Clone(devNodes), "pts", "shm")
	for _, l := range devLinks {
		made = append(made, l[0])
	}
	slices.Sort(made)
	want := []string{"fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"}
	if !slices.Equal(made, want) {
		t.Errorf("mountMinimalDev makes %q, want the OCI runtime specification's /dev: %q", made, want)
	}
}
