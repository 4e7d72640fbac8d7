package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMislabelledBase builds from the fixture index whose linux/arm64/v8
// entry holds an amd64 image, from a registry and from a layout, and from
// a list podman mislabelled in local storage: refused
// before any step, naming the base, the entry's platform and the config's;
// --allow-mislabelled-base builds with one warning.
func TestMislabelledBase(t *testing.T) {
	pushed := env.Registry + "/busybox:mislabelled"
	mustSucceed(t, skopeo(t, "copy", "--all", "--quiet", "--dest-tls-verify=false",
		"oci:"+filepath.Join(env.Fixtures, "busybox-oci")+":mislabelled", "docker://"+pushed))
	for _, tc := range []struct {
		name, base, platforms string
		// local: made in local storage by podman as a user would
		// mislabel an image (manifest add --arch arm64 of an amd64
		// image). buildah picks a local image by its config and found
		// no arm64 image there ("image not known") even when allowed:
		// polyarch now hands it the entry's image by ID. Allowed, it
		// is built with --pull=missing and --pull=never.
		local bool
	}{
		{"registry", pushed, "linux/amd64,linux/arm64", false},
		{"layout", "oci:busybox-oci:mislabelled", "linux/amd64,linux/arm64", false},
		{"local storage", "localhost/mislabelled:1", "linux/arm64", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctxDir := writeContext(t, "FROM "+tc.base+"\nRUN cat /etc/fixture-arch\n", nil)
			copyPath(t, filepath.Join(env.Fixtures, "busybox-oci"), filepath.Join(ctxDir, "busybox-oci"))
			s := newStore(t)
			if tc.local {
				mislabelLocally(t, s, tc.base)
			}
			args := []string{"build", "--tls-verify=false", "--platform", tc.platforms, ctxDir}
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
			allowed := [][]string{{"build", "--allow-mislabelled-base"}}
			if tc.local {
				allowed = append(allowed, []string{"build", "--allow-mislabelled-base", "--pull=never", "--no-cache"})
			}
			for _, flags := range allowed {
				r = polyarch(t, s, append(flags, args[1:]...)...)
				mustSucceed(t, r)
				if n := strings.Count(r.Stderr, "WARNING: building from a mislabelled base"); n != 1 {
					t.Errorf("%v: %d mislabelled-base warnings, want 1: %s", flags, n, r.Stderr)
				}
				if !strings.Contains(r.Stdout, "[linux/arm64] amd64") {
					t.Errorf("%v: the arm64 build did not run the amd64 image the label hid: %s", flags, r.Stdout)
				}
			}
		})
	}
}

// mislabelLocally makes list in local storage: one entry that podman
// labels linux/arm64/v8, holding the fixture's amd64 image.
func mislabelLocally(t *testing.T, s store, list string) {
	t.Helper()
	src := "oci:" + filepath.Join(env.Fixtures, "busybox-oci") + ":amd64-single"
	mustSucceed(t, skopeo(t, "copy", "--quiet", src, "containers-storage:["+"overlay@"+s.Root+"+"+s.RunRoot+"]localhost/amd64img:1"))
	mustSucceed(t, podman(t, s, "manifest", "create", list))
	mustSucceed(t, podman(t, s, "manifest", "add", "--arch", "arm64", "--variant", "v8", list, "containers-storage:localhost/amd64img:1"))
}
