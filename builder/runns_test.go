package builder

import (
	"os"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
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

func TestInheritedFiles(t *testing.T) {
	r, w, err := os.Pipe() // close-on-exec, as Go opens everything
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := unix.FcntlInt(r.Fd(), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	files := inheritedFiles()
	at := int(r.Fd()) - 3
	if at >= len(files) || files[at] == nil || files[at].Fd() != r.Fd() {
		t.Fatalf("the inheritable fd %d is not ExtraFiles[%d]: %v", r.Fd(), at, files)
	}
	if int(w.Fd())-3 < len(files) && files[int(w.Fd())-3] != nil {
		t.Errorf("the close-on-exec fd %d is passed on", w.Fd())
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
