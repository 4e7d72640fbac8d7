package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMislabelledBase builds from the fixture index whose linux/arm64/v8
// entry holds an amd64 image, from a registry and from a layout: refused
// before any step, naming the base, the entry's platform and the config's;
// --allow-mislabelled-base builds with one warning.
func TestMislabelledBase(t *testing.T) {
	pushed := env.Registry + "/busybox:mislabelled"
	out, err := exec.Command("skopeo", "copy", "--all", "--quiet", "--dest-tls-verify=false",
		"oci:"+filepath.Join(env.Fixtures, "busybox-oci")+":mislabelled", "docker://"+pushed).CombinedOutput()
	if err != nil {
		t.Fatalf("pushing the mislabelled base: %v: %s", err, out)
	}
	for _, tc := range []struct {
		name, base string
		// local: copied into local storage first. buildah then picks a
		// local image by its config, so even allowed, the arm64 build
		// finds no arm64 image there: only the refusal is checked.
		local bool
	}{
		{"registry", pushed, false},
		{"layout", "oci:busybox-oci:mislabelled", false},
		{"local storage", "localhost/mislabelled:1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctxDir := writeContext(t, "FROM "+tc.base+"\nRUN cat /etc/fixture-arch\n", nil)
			copyPath(t, filepath.Join(env.Fixtures, "busybox-oci"), filepath.Join(ctxDir, "busybox-oci"))
			s := newStore(t)
			if tc.local {
				mustSucceed(t, polyarch(t, s, "copy", "oci:"+filepath.Join(env.Fixtures, "busybox-oci")+":mislabelled", "containers-storage:"+tc.base))
			}
			args := []string{"build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64", ctxDir}
			r := polyarch(t, s, args...)
			if r.Code != 1 {
				t.Errorf("exit %d, want 1", r.Code)
			}
			for _, want := range []string{"base images are mislabelled, nothing was built", tc.base + ": its index entry for linux/arm64",
				"whose config says linux/amd64", "--allow-mislabelled-base"} {
				if !strings.Contains(r.Stderr, want) {
					t.Errorf("error does not say %q: %s", want, r.Stderr)
				}
			}
			if strings.Contains(r.Stdout+r.Stderr, "STEP") {
				t.Errorf("a step ran before the refusal: %s", r.Stdout)
			}
			if tc.local {
				return
			}
			r = polyarch(t, s, append([]string{"build", "--allow-mislabelled-base"}, args[1:]...)...)
			mustSucceed(t, r)
			if n := strings.Count(r.Stderr, "WARNING: building from a mislabelled base"); n != 1 {
				t.Errorf("%d mislabelled-base warnings, want 1: %s", n, r.Stderr)
			}
			if !strings.Contains(r.Stdout, "[linux/arm64] amd64") {
				t.Errorf("the arm64 build did not run the amd64 image the label hid: %s", r.Stdout)
			}
		})
	}
}
