package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// Tests of --format docker: Docker schema 2 manifests in a Docker
// manifest list, in the registry and in local storage, their configs
// keeping HEALTHCHECK, SHELL and ONBUILD.

const (
	dockerListType     = "application/vnd.docker.distribution.manifest.list.v2+json"
	dockerManifestType = "application/vnd.docker.distribution.manifest.v2+json"
)

// formatContainerfile uses the instructions only Docker configs hold.
const formatContainerfile = `FROM %s
SHELL ["/bin/sh", "-ec"]
HEALTHCHECK --interval=30s --timeout=3s CMD test -f /ok
ONBUILD RUN echo child build
RUN touch /ok
`

// dockerConfig is a Docker image config, as skopeo inspect --config
// --raw shows it (without --raw, skopeo shows it converted to OCI).
type dockerConfig struct {
	Architecture string `json:"architecture"`
	Config       struct {
		Healthcheck *struct {
			Test     []string `json:"Test"`
			Interval int64    `json:"Interval"`
		} `json:"Healthcheck"`
		Shell   []string `json:"Shell"`
		OnBuild []string `json:"OnBuild"`
	} `json:"config"`
}

// TestFormatDockerPush builds two platforms (arm64 emulated) with
// --format docker --push; skopeo reads a Docker manifest list of Docker
// schema 2 manifests whose configs keep HEALTHCHECK, SHELL and ONBUILD,
// local storage holds a Docker manifest list, and podman pulls the image.
func TestFormatDockerPush(t *testing.T) {
	s := newStore(t)
	ctx := writeContext(t, fmt.Sprintf(formatContainerfile, registryBase("latest")), nil)
	ref := env.Registry + "/dockerfmt:1"
	r := polyarch(t, s, "build", "--platform", "linux/amd64,linux/arm64", "--format", "docker", "--tls-verify=false", "-t", ref, "--push", ctx)
	mustSucceed(t, r)
	if strings.Contains(r.Stderr, "HEALTHCHECK is not supported") {
		t.Errorf("buildah warned that HEALTHCHECK is dropped: %s", r.Stderr)
	}

	raw := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+ref)
	mustSucceed(t, raw)
	var list struct {
		MediaType string `json:"mediaType"`
		Manifests []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal([]byte(raw.Stdout), &list); err != nil {
		t.Fatal(err)
	}
	if list.MediaType != dockerListType || len(list.Manifests) != 2 {
		t.Fatalf("registry holds %s with %d entries, want a Docker manifest list of 2", list.MediaType, len(list.Manifests))
	}
	for _, m := range list.Manifests {
		child := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+env.Registry+"/dockerfmt@"+m.Digest)
		mustSucceed(t, child)
		if m.MediaType != dockerManifestType || !strings.Contains(child.Stdout, `"mediaType": "`+dockerManifestType+`"`) && !strings.Contains(child.Stdout, `"mediaType":"`+dockerManifestType+`"`) {
			t.Errorf("entry %s: descriptor %s, manifest %s; want Docker schema 2", m.Digest, m.MediaType, child.Stdout)
		}
	}
	for arch, want := range map[string]string{"amd64": "amd64", "arm64": "arm64"} {
		c := skopeo(t, "--override-arch", arch, "inspect", "--config", "--raw", "--tls-verify=false", "docker://"+ref)
		mustSucceed(t, c)
		checkDockerConfig(t, c.Stdout, want)
	}

	local := podman(t, s, "manifest", "inspect", ref)
	mustSucceed(t, local)
	if !strings.Contains(local.Stdout, dockerListType) || !strings.Contains(local.Stdout, dockerManifestType) {
		t.Errorf("local storage does not hold a Docker manifest list of Docker manifests: %s", local.Stdout)
	}

	fresh := newStore(t)
	mustSucceed(t, podman(t, fresh, "pull", "--tls-verify=false", "--arch", "arm64", "docker://"+ref))
	insp := podman(t, fresh, "image", "inspect", "--format", "{{.Architecture}} {{json .HealthCheck}}", ref)
	mustSucceed(t, insp)
	if !strings.HasPrefix(insp.Stdout, "arm64 ") || !strings.Contains(insp.Stdout, "test -f /ok") {
		t.Errorf("podman sees %q, want arm64 with the HEALTHCHECK", insp.Stdout)
	}
}

// checkDockerConfig checks the Docker-only fields of a config.
func checkDockerConfig(t *testing.T, raw, arch string) {
	t.Helper()
	var c dockerConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	hc := c.Config.Healthcheck
	if c.Architecture != arch || hc == nil || strings.Join(hc.Test, " ") != "CMD-SHELL test -f /ok" || hc.Interval != 30e9 {
		t.Errorf("%s config: architecture %q, healthcheck %+v; want %s and CMD-SHELL test -f /ok every 30s", arch, c.Architecture, hc, arch)
	}
	if strings.Join(c.Config.Shell, " ") != "/bin/sh -ec" || strings.Join(c.Config.OnBuild, " ") != "RUN echo child build" {
		t.Errorf("%s config: shell %q, onbuild %q", arch, c.Config.Shell, c.Config.OnBuild)
	}
}

// TestFormatDockerRefusesLayout checks that --format docker to an OCI
// layout is a usage error naming the fix, before any work.
func TestFormatDockerRefusesLayout(t *testing.T) {
	ctx := writeContext(t, fmt.Sprintf(formatContainerfile, registryBase("latest")), nil)
	out := filepath.Join(t.TempDir(), "out")
	r := polyarch(t, newStore(t), "build", "--format", "docker", "-o", "type=oci,dest="+out, ctx)
	if r.Code != 125 || !strings.Contains(r.Stderr, "use --format oci") {
		t.Errorf("exit %d, stderr %q: want 125 and the fix", r.Code, r.Stderr)
	}
}
