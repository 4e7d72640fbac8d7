package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/polyarch/polyarch/builder"
	"go.podman.io/buildah"
)

func TestMain(m *testing.M) {
	builder.ServeRunNamespace() // RUN steps of in-process builds as polyarch runs them
	if buildah.InitReexec() {
		return
	}
	os.Exit(m.Run())
}

// runApp runs polyarch in-process and returns its exit code and output.
func runApp(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := newAppWithOutput(&stdout, &stderr)
	full, err := permuteArgs(app, append([]string{"polyarch"}, args...))
	if err == nil {
		err = app.RunContext(context.Background(), full)
	}
	code := 0
	if err != nil {
		code = exitCode(err)
		stderr.WriteString(err.Error())
	}
	return code, stdout.String(), stderr.String()
}

// TestBuildRejectsBadInput checks that invalid flags fail with exit 125
// and a message naming the flag, before any work starts.
func TestBuildRejectsBadInput(t *testing.T) {
	ctxDir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no context", []string{"build"}, "exactly one CONTEXT"},
		{"two contexts", []string{"build", ctxDir, ctxDir}, "exactly one CONTEXT"},
		{"bad platform", []string{"build", "--platform", "linux/", ctxDir}, "malformed platform"},
		{"bad pull", []string{"build", "--pull", "sometimes", ctxDir}, "always, missing or never"},
		{"bad build-arg", []string{"build", "--build-arg", "NOVALUE", ctxDir}, "KEY=VALUE"},
		{"bad output type", []string{"build", "-o", "type=docker,dest=x", ctxDir}, "unsupported type"},
		{"output without dest", []string{"build", "-o", "type=oci", ctxDir}, "missing dest"},
		{"registry output with dest", []string{"build", "-o", "type=registry,dest=x", ctxDir}, "takes no dest"},
		{"bad progress", []string{"build", "--progress", "fancy", ctxDir}, "use auto, plain or quiet"},
		{"bad max-layer-size", []string{"build", "--max-layer-size", "lots", ctxDir}, "invalid --max-layer-size"},
		{"zero max-layer-size", []string{"build", "--max-layer-size", "0", ctxDir}, "invalid --max-layer-size"},
		{"quiet against plain progress", []string{"build", "-q", "--progress", "plain", ctxDir}, "contradicts --progress plain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runApp(t, tc.args...)
			if code != 125 {
				t.Errorf("exit %d, want 125", code)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q lacks %q", stderr, tc.want)
			}
		})
	}
}

func TestBadLogLevel(t *testing.T) {
	code, _, stderr := runApp(t, "--log-level", "loud", "info")
	if code == 0 || !strings.Contains(stderr, "debug, info, warn or error") {
		t.Errorf("exit %d, stderr %q: want an error listing the levels", code, stderr)
	}
}

func TestHints(t *testing.T) {
	for _, tc := range []struct{ err, want string }{
		{"running: exec format error", "qemu"},
		{"pinging: http: server gave HTTP response to HTTPS client", "--tls-verify=false"},
		{"lchown /home/app: invalid argument", "--add-subuids"},
	} {
		if got := hint(errString(tc.err)).Error(); !strings.Contains(got, tc.want) {
			t.Errorf("hint(%q) = %q, want it to mention %q", tc.err, got, tc.want)
		}
	}
}

// errString is an error with a fixed message.
type errString string

func (e errString) Error() string { return string(e) }
