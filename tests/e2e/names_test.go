package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestInvalidRunMountIsUsageError gives RUN --mount options buildah
// refuses: each is a usage error (exit 125) naming the file's line, found
// before any base is pulled.
func TestInvalidRunMountIsUsageError(t *testing.T) {
	for _, tc := range []struct{ mount, want string }{
		{"type=bogus,target=/x", `unknown mount type "bogus"`},
		{"type=bind,frobnicate=1,target=/x", `unknown option "frobnicate" for type=bind`},
		{"type=cache,target=/x,sharing=everyone", `option sharing: "everyone" is not one of`},
		{"type=tmpfs,tmpfs-size=1m", "type=tmpfs needs a target"},
	} {
		t.Run(strings.ReplaceAll(tc.mount, ",", " "), func(t *testing.T) {
			s := newStore(t)
			ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN --mount="+tc.mount+" true\n", nil)
			r := polyarch(t, s, "build", "--tls-verify=false", ctxDir)
			if r.Code != 125 {
				t.Errorf("exit %d, want 125", r.Code)
			}
			if !strings.Contains(r.Stderr, "line 2: RUN: --mount="+tc.mount+": "+tc.want) {
				t.Errorf("error does not name line 2, RUN and %q: %s", tc.want, r.Stderr)
			}
			if strings.Contains(r.Stderr, "Copying blob") || strings.Contains(r.Stderr, "STEP") {
				t.Errorf("the base was pulled or a step ran before the error: %s", r.Stderr)
			}
		})
	}
}

// shortNameRepo is the repository short-name tests push to the suite's
// registry: no registries.conf alias names it.
const shortNameRepo = "polyarch-short/busybox"

// TestShortNames builds FROM a short name with and without an
// unqualified-search registry in a test registries.conf, and from a short
// name found in local storage.
func TestShortNames(t *testing.T) {
	mustSucceed(t, skopeo(t, "copy", "--all", "--quiet", "--dest-tls-verify=false",
		"oci:"+filepath.Join(env.Fixtures, "busybox-oci")+":3arch", "docker://"+env.Registry+"/"+shortNameRepo+":3arch"))
	dir := t.TempDir()
	search := writeTemp(t, dir, "search.conf", fmt.Sprintf("unqualified-search-registries = [%q]\n[[registry]]\nlocation = %q\ninsecure = true\n", env.Registry, env.Registry))
	none := writeTemp(t, dir, "none.conf", "# no unqualified-search-registries\n")
	ctxDir := writeContext(t, "FROM "+shortNameRepo+":3arch\nRUN cat /etc/fixture-arch > /arch\n", nil)
	s := newStore(t)

	t.Run("search registry", func(t *testing.T) {
		r := polyarchEnv(t, s, []string{"CONTAINERS_REGISTRIES_CONF=" + search}, "", "build", "--platform", "linux/amd64,linux/arm64", "-t", "short:1", ctxDir)
		mustSucceed(t, r)
		if !strings.Contains(r.Stderr, "Trying to pull "+env.Registry+"/"+shortNameRepo+":3arch") {
			t.Errorf("the base was not pulled from the search registry %s: %s", env.Registry, r.Stderr)
		}
	})
	t.Run("no search registry", func(t *testing.T) {
		r := polyarchEnv(t, newStore(t), []string{"CONTAINERS_REGISTRIES_CONF=" + none}, "", "build", ctxDir)
		if r.Code != 1 {
			t.Errorf("exit %d, want 1", r.Code)
		}
		for _, want := range []string{`base image "` + shortNameRepo + `:3arch" is a short name`, "no unqualified-search-registries are configured in " + none,
			"name it fully (e.g. docker.io/" + shortNameRepo + ":3arch)", "nothing was built"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("error does not say %q: %s", want, r.Stderr)
			}
		}
		if strings.Contains(r.Stderr, "registry-1.docker.io") || strings.Contains(r.Stderr, "STEP") {
			t.Errorf("docker.io was tried or a step ran: %s", r.Stderr)
		}
	})
	t.Run("local storage", func(t *testing.T) {
		local := writeContext(t, "FROM short:1\nRUN cat /arch\n", nil)
		r := polyarchEnv(t, s, []string{"CONTAINERS_REGISTRIES_CONF=" + none}, "", "build", "--platform", "linux/amd64", local)
		mustSucceed(t, r)
		if !strings.Contains(r.Stdout, "amd64") {
			t.Errorf("the RUN step did not read the local base's /arch: %s", r.Stdout)
		}
	})
}
