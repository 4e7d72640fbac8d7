package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildFromLocalStorage builds a multi-arch base into local storage,
// then builds on it with --pull=never, by name and through the
// containers-storage: transport: each platform gets its own base.
func TestBuildFromLocalStorage(t *testing.T) {
	s := newStore(t)
	base := writeContext(t, "FROM "+registryBase("3arch")+"\nRUN uname -m > /base-arch.txt\n", nil)
	mustSucceed(t, polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64,linux/s390x", "-t", "base:1", base))
	for _, from := range []string{"localhost/base:1", "containers-storage:localhost/base:1"} {
		t.Run(from, func(t *testing.T) {
			ctxDir := writeContext(t, "FROM "+from+"\nRUN cp /base-arch.txt /copied.txt\n", nil)
			out := filepath.Join(t.TempDir(), "out")
			mustSucceed(t, polyarch(t, s, "build", "--pull=never", "--platform", "linux/s390x,linux/arm64", "-o", "type=oci,dest="+out, ctxDir))
			l := layout{t: t, dir: out}
			_, _, idx := l.top()
			for i, want := range []string{"s390x", "aarch64"} {
				got, err := l.file(idx, i, "/copied.txt")
				if err != nil || strings.TrimSpace(got) != want {
					t.Errorf("entry %d built on base %q (%v), want the %s base", i, got, err, want)
				}
			}
		})
	}
	ctxDir := writeContext(t, "FROM localhost/absent:1\nRUN true\n", nil)
	r := polyarch(t, s, "build", "--pull=never", "--platform", "linux/arm64", ctxDir)
	if r.Code == 0 || !strings.Contains(r.Stderr, "not in local storage and --pull=never") {
		t.Errorf("--pull=never with an absent base: exit %d, %s", r.Code, r.Stderr)
	}
}
