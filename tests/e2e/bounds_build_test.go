package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildBaseLayerSizeCap builds from a base whose gzip layer inflates
// to 8 MiB (the copy fixture, bombLayout), given as a layout in the
// context and as a registry image: with --max-layer-size 1MiB the build
// fails before any step, naming the base, the platform, the layer and
// the cap; it leaves nothing in TMPDIR, the store passes check-store and
// holds no image of the base; under the default cap the build succeeds.
func TestBuildBaseLayerSizeCap(t *testing.T) {
	bomb, layer := bombLayout(t)
	pushed := env.Registry + "/bomb:1"
	mustSucceed(t, skopeo(t, "copy", "--quiet", "--dest-tls-verify=false", "oci:"+bomb+":bomb", "docker://"+pushed))
	for _, tc := range []struct{ name, base string }{
		{"layout", "oci:bomb:bomb"},
		{"registry", pushed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			ctxDir := writeContext(t, "FROM "+tc.base+"\nCOPY Containerfile /\n", nil)
			copyPath(t, bomb, filepath.Join(ctxDir, "bomb"))
			tmp := t.TempDir()
			run := func(args ...string) result {
				cmd := exec.Command(env.Bin, append(s.flags(), args...)...)
				cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				t.Logf("$ polyarch %v: %v\n%s%s", args, err, stdout.String(), stderr.String())
				return result{Code: cmd.ProcessState.ExitCode(), Stdout: stdout.String(), Stderr: stderr.String()}
			}
			build := []string{"build", "--tls-verify=false", "--platform", "linux/amd64", "-t", "localhost/onbomb:1", ctxDir}
			r := run(append([]string{build[0], "--max-layer-size", "1MiB"}, build[1:]...)...)
			for _, want := range []string{tc.base, "linux/amd64", layer, "1048576 bytes", "--max-layer-size"} {
				if r.Code == 0 || !strings.Contains(r.Stderr, want) {
					t.Errorf("build from a bomb base: exit %d, stderr %q; want a failure naming %q", r.Code, r.Stderr, want)
				}
			}
			if strings.Contains(r.Stdout, "STEP 2/2") {
				t.Errorf("a step ran from the refused base: %s", r.Stdout)
			}
			entries, _ := os.ReadDir(tmp)
			for _, e := range entries {
				if !strings.HasPrefix(e.Name(), "storage-run-") {
					t.Errorf("temporary file %s left in TMPDIR after the refused build", e.Name())
				}
			}
			mustSucceed(t, polyarch(t, s, "check-store"))
			if img := podman(t, s, "images", "--all", "--quiet"); strings.TrimSpace(img.Stdout) != "" {
				t.Errorf("the refused build left images in local storage: %s", img.Stdout)
			}
			mustSucceed(t, run(build...))
			mustSucceed(t, polyarch(t, s, "check-store"))
		})
	}
}
