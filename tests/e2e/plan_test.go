package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestParseErrorsBeforeWork checks that a Containerfile buildah could not
// build is refused before anything is pulled: exit 125, an error naming
// the file, the line and the instruction, no request to the registry and
// no image in the store.
func TestParseErrorsBeforeWork(t *testing.T) {
	base := registryBase("latest")
	for _, tc := range []struct {
		name, containerfile, instruction, want string
		line                                   int
	}{
		{"unknown instruction", "FROM " + base + "\nRUNN echo hi\n", "RUNN", "unknown instruction", 2},
		{"instruction before FROM", "ARG X=1\nRUN echo hi\nFROM " + base + "\n", "RUN", "before the first FROM", 2},
		{"empty FROM", "FROM " + base + "\nRUN true\nFROM\nRUN echo hi\n", "FROM", "names no image", 3},
		{"unterminated heredoc", "FROM " + base + "\nRUN true\nRUN <<EOF\necho hi\n", "RUN", "heredoc <<EOF is never terminated", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			ctxDir := writeContext(t, tc.containerfile, nil)
			offset := registryLogSize(t)
			r := polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64", "-t", "app:parse", ctxDir)
			if r.Code != 125 {
				t.Errorf("exit %d, want 125", r.Code)
			}
			file := filepath.Join(ctxDir, "Containerfile")
			for _, want := range []string{file, "line " + strconv.Itoa(tc.line), tc.instruction + ": ", tc.want} {
				if !strings.Contains(r.Stderr, want) {
					t.Errorf("error does not say %q: %s", want, r.Stderr)
				}
			}
			if strings.Contains(r.Stderr, "imagebuilder.") || strings.Contains(r.Stderr, "&{") {
				t.Errorf("error shows a Go value: %s", r.Stderr)
			}
			checkNothingPulled(t, s, offset)
		})
	}
}

// checkNothingPulled fails if the shared registry was asked for an image
// since offset, or if the store holds an image.
func checkNothingPulled(t *testing.T, s store, offset int64) {
	t.Helper()
	if log := registryLogSince(t, offset); strings.Contains(log, "/v2/busybox") {
		t.Errorf("the registry was asked for the base:\n%s", log)
	}
	images := podman(t, s, "images", "--all", "--quiet")
	mustSucceed(t, images)
	if strings.TrimSpace(images.Stdout) != "" {
		t.Errorf("the store holds images: %q", images.Stdout)
	}
}

// TestPushTargetCheckedFirst checks that a push target that cannot be
// used (nothing listening; wrong credentials) fails the build before the
// base is pulled or a RUN step runs, naming the registry and the next step.
func TestPushTargetCheckedFirst(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("127.0.0.1:%d", port)
	secure := startSecureRegistry(t)
	for _, tc := range []struct {
		name, target string
		args, want   []string
	}{
		{"closed port", dead + "/app:1", []string{"--tls-verify=false"}, []string{"cannot connect to " + dead, "connection refused"}},
		{"wrong credentials", secure.Addr + "/app:1", []string{"--tls-verify=false", "--creds", authUser + ":" + wrongPass},
			[]string{"authentication required for " + secure.Addr, "polyarch login " + secure.Addr}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN echo STEP-RAN\n", nil)
			offset := registryLogSize(t)
			args := append([]string{"build", "--push", "--platform", "linux/amd64,linux/arm64", "-t", tc.target}, tc.args...)
			r := polyarch(t, s, append(args, ctxDir)...)
			if r.Code != 1 {
				t.Errorf("exit %d, want 1", r.Code)
			}
			for _, want := range append(tc.want, tc.target, "nothing was built") {
				if !strings.Contains(r.Stderr, want) {
					t.Errorf("error does not say %q: %s", want, r.Stderr)
				}
			}
			if strings.Contains(r.Stdout+r.Stderr, "STEP-RAN") {
				t.Errorf("a RUN step ran before the push target was checked")
			}
			if r.Elapsed > 10*time.Second {
				t.Errorf("failing took %s: the target should be checked first", r.Elapsed)
			}
			checkNoSecret(t, r, wrongPass)
			checkNothingPulled(t, s, offset)
		})
	}
}
