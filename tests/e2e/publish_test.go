package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestSinglePlatformIsAnImage: one platform publishes a plain image, as
// podman build does: tagged locally, pushed and exported as a manifest.
func TestSinglePlatformIsAnImage(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN uname -m > /arch.txt\n", nil)
	repo := env.Registry + "/single/app:1"
	out := filepath.Join(t.TempDir(), "out")
	mustSucceed(t, polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/arm64", "-t", repo, "--push", "-o", "type=oci,dest="+out, ctxDir))
	raw := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+repo)
	mustSucceed(t, raw)
	var m struct{ MediaType string }
	if err := json.Unmarshal([]byte(raw.Stdout), &m); err != nil || m.MediaType != "application/vnd.oci.image.manifest.v1+json" {
		t.Fatalf("registry holds %q (%v), want an image manifest", m.MediaType, err)
	}
	l := layout{t: t, dir: out}
	l.verifyBlobs()
	_, desc, idx := l.top()
	if desc.MediaType != "application/vnd.oci.image.manifest.v1+json" || "sha256:"+sha256hex(raw.Stdout) != desc.Digest.String() {
		t.Errorf("layout entry %s %s, want the pushed manifest", desc.MediaType, desc.Digest)
	}
	if arch, err := l.file(idx, 0, "/arch.txt"); err != nil || strings.TrimSpace(arch) != "aarch64" {
		t.Errorf("/arch.txt = %q (%v)", arch, err)
	}
	insp := podman(t, s, "image", "inspect", "--format", "{{.Architecture}}", repo)
	mustSucceed(t, insp)
	if strings.TrimSpace(insp.Stdout) != "arm64" {
		t.Errorf("podman sees architecture %q", insp.Stdout)
	}
}

// TestSeveralOutputsAndTags writes two outputs and pushes two tags: all
// hold the same index.
func TestSeveralOutputsAndTags(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN uname -m > /arch.txt\n", nil)
	a, b := env.Registry+"/multi/a:1", env.Registry+"/multi/b:1"
	dir := t.TempDir()
	layoutDir, archive := filepath.Join(dir, "oci"), filepath.Join(dir, "app.tar")
	mustSucceed(t, polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/amd64,linux/s390x", "-t", a, "-t", b, "--push",
		"-o", "type=oci,dest="+layoutDir, "-o", "type=oci-archive,dest="+archive, ctxDir))
	_, desc, _ := layout{t: t, dir: layoutDir}.top()
	unpacked := t.TempDir()
	mustSucceed(t, runCmd(t, "", "tar", "-xf", archive, "-C", unpacked))
	_, desc2, _ := layout{t: t, dir: unpacked}.top()
	for name, got := range map[string]string{
		"archive": desc2.Digest.String(),
		a:         "sha256:" + sha256hex(skopeoRaw(t, "docker://"+a)),
		b:         "sha256:" + sha256hex(skopeoRaw(t, "docker://"+b)),
	} {
		if got != desc.Digest.String() {
			t.Errorf("%s holds %s, the layout %s", name, got, desc.Digest)
		}
	}
}

// TestFailedPushKeepsOutputs: when the push fails, no output moves and no
// tag is written anywhere.
func TestFailedPushKeepsOutputs(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN uname -m > /arch.txt\n", nil)
	out := filepath.Join(t.TempDir(), "oci")
	good := env.Registry + "/keep/app:1"
	mustSucceed(t, polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64", "-t", good, "--push", "-o", "type=oci,dest="+out, ctxDir))
	before, beforeTag := treeHash(t, out), skopeoRaw(t, "docker://"+good)

	changed := writeContext(t, "FROM "+registryBase("latest")+"\nRUN uname -m > /arch.txt && echo v2 > /v\n", nil)
	r := polyarch(t, s, "build", "--tls-verify=false", "--retry", "0", "--platform", "linux/amd64,linux/arm64",
		"-t", good, "-t", "127.0.0.1:1/nowhere/app:1", "--push", "-o", "type=oci,dest="+out, changed)
	if r.Code == 0 {
		t.Fatal("push to an unreachable registry succeeded")
	}
	if treeHash(t, out) != before {
		t.Errorf("OCI output changed although the push failed")
	}
	if skopeoRaw(t, "docker://"+good) != beforeTag {
		t.Errorf("tag %s moved although another tag's push failed", good)
	}
}
