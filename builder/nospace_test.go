package builder

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestExplainNoSpace(t *testing.T) {
	places := []spacePlace{{"/var/lib/containers/storage", "store"}, {"/tmp/polyarch-build-1", "TMPDIR"}}
	for _, tc := range []struct {
		name string
		err  error
		want string // "" when err is returned unchanged
	}{
		{"store in text", errors.New(`deleting build container "x": write /var/lib/containers/storage/overlay-layers/.tmp-l.json1: no space left on device`),
			"no space left on device at /var/lib/containers/storage (store): free space there, or move the store"},
		{"TMPDIR wrapped", fmt.Errorf("copying: %w", &os.PathError{Op: "write", Path: "/tmp/polyarch-build-1/blob", Err: syscall.ENOSPC}),
			"no space left on device at /tmp/polyarch-build-1 (TMPDIR): free space there, or point TMPDIR"},
		{"other error", errors.New("exit status 1"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := explainNoSpace(tc.err, places)
			if tc.want == "" {
				if got != tc.err {
					t.Errorf("got %v, want the error unchanged", got)
				}
				return
			}
			if !strings.HasPrefix(got.Error(), tc.want) || !errors.Is(got, errNoSpace) || !strings.Contains(got.Error(), tc.err.Error()) {
				t.Errorf("got %q, want it to start with %q, be errNoSpace and keep the cause", got, tc.want)
			}
		})
	}
}
