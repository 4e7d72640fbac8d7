package e2e

import (
	"encoding/json"

	"bytes"
	"fmt"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writePolicyFile writes a signature policy whose default requirement is
// of type kind (reject or insecureAcceptAnything) and returns its path.
func writePolicyFile(t *testing.T, kind string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), kind+".json")
	if err := os.WriteFile(p, []byte(`{"default":[{"type":"`+kind+`"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCopyChecksSignaturePolicy copies oci:→oci: and registry→oci-archive:,
// whole and as a platform subset (written byte for byte by polyarch's own
// transfer, not containers/image's copy), under a policy that rejects
// everything and one that accepts anything: the first fails naming the
// source and the policy and writes nothing, the second succeeds.
func TestCopyChecksSignaturePolicy(t *testing.T) {
	reject, accept := writePolicyFile(t, "reject"), writePolicyFile(t, "insecureAcceptAnything")
	srcs := map[string]string{
		"oci":      "oci:" + filepath.Join(env.Fixtures, "busybox-oci") + ":latest",
		"registry": "docker://" + env.Registry + "/busybox:latest",
	}
	dests := map[string]func(dir string) string{
		"oci":      func(dir string) string { return "oci:" + filepath.Join(dir, "layout") + ":x" },
		"registry": func(dir string) string { return "oci-archive:" + filepath.Join(dir, "a.tar") + ":x" },
	}
	for name, src := range srcs {
		for _, subset := range [][]string{nil, {"--platform", "linux/arm64"}} {
			t.Run(name+"/"+strings.Join(subset, "="), func(t *testing.T) {
				dir := t.TempDir()
				dst := dests[name](dir)
				args := append([]string{"copy", "-q", "--tls-verify=false"}, subset...)
				r := polyarch(t, newStore(t), append(args, "--signature-policy", reject, src, dst)...)
				if r.Code == 0 {
					t.Fatalf("copy of %s to %s under a rejecting policy succeeded", src, dst)
				}
				if !strings.Contains(r.Stderr, "rejected") || !strings.Contains(r.Stderr, strings.TrimPrefix(strings.TrimPrefix(src, "docker://"), "oci:")[:10]) {
					t.Errorf("the refusal names neither the rejection nor the source: %s", r.Stderr)
				}
				if strings.Contains(r.Stderr, "PolicyRejectedError") || (subset != nil && !strings.Contains(r.Stderr, reject)) {
					t.Errorf("the refusal does not name the policy %s: %s", reject, r.Stderr)
				}
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					t.Errorf("a rejected copy left %d entries in %s", len(entries), dir)
				}
				mustSucceed(t, polyarch(t, newStore(t), append(args, "--signature-policy", accept, src, dst)...))
				mustSucceed(t, skopeo(t, "inspect", "--raw", dst))
			})
		}
	}
}

// referrerDigests maps each subject listed by index inspect --referrers
// to its referrers' digests.
func referrerDigests(in inspectReferrers) map[string][]string {
	out := map[string][]string{}
	for _, sub := range in.Referrers {
		for _, r := range sub.Referrers {
			out[sub.Subject] = append(out[sub.Subject], r.Digest)
		}
	}
	return out
}

// TestCopyCarriesReferrers pushes a two-platform build with provenance
// to one repository, copies it with copy --all to another repository and
// to an OCI layout: both list the same referrers for the same subjects,
// the registry's statements byte for byte; --referrers=false copies none.
func TestCopyCarriesReferrers(t *testing.T) {
	src := env.Registry + "/copyref/src:1"
	mustSucceed(t, provenanceBuild(t, "-t", src, "--push"))
	want := referrerDigests(listReferrers(t, "docker://"+src))
	if len(want) < 2 {
		t.Fatalf("the source lists referrers for %d subjects, want at least the two children", len(want))
	}
	dst := env.Registry + "/copyref/dst:1"
	layoutDir := filepath.Join(t.TempDir(), "layout")
	for _, to := range []string{"docker://" + dst, "oci:" + layoutDir + ":1"} {
		mustSucceed(t, polyarch(t, newStore(t), "copy", "--all", "--tls-verify=false", "docker://"+src, to))
		got := referrerDigests(listReferrers(t, to))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s lists referrers %v, want the source's %v", to, got, want)
		}
	}
	for subject := range want {
		if subject == skopeoDigestOf(t, "copyref/src:1") {
			continue // the index's referrer, if any: listed above
		}
		_, a := fallbackReferrer(t, "copyref/src", subject)
		_, b := fallbackReferrer(t, "copyref/dst", subject)
		if !bytes.Equal(a, b) {
			t.Errorf("the provenance of %s differs after the copy", subject)
		}
	}
	none := env.Registry + "/copyref/none:1"
	mustSucceed(t, polyarch(t, newStore(t), "copy", "--all", "--referrers=false", "--tls-verify=false", "docker://"+src, "docker://"+none))
	if got := referrerDigests(listReferrers(t, "docker://"+none)); len(got) != 0 {
		t.Errorf("copy --referrers=false carried referrers: %v", got)
	}
}

// TestSignedPushByDigest signs a 3-platform build --push-by-digest with
// key a: the index and every platform manifest, pushed untagged, get a
// sigstore attachment, accepted under a policy requiring key a (by
// containers/image's policy engine and the upstream skopeo) and rejected
// under one requiring key b; no tag but the attachments is written.
func TestSignedPushByDigest(t *testing.T) {
	sg := newSigning(t)
	repo := env.Registry + "/signed/bydigest"
	ctxDir := writeContext(t, fmt.Sprintf(signContainerfile, registryBase("3arch")), map[string]string{"f.txt": "signed by digest\n"})
	md := filepath.Join(t.TempDir(), "md.json")
	mustSucceed(t, polyarch(t, newStore(t), append([]string{"build", "--platform", "linux/amd64,linux/arm64,linux/s390x", "--tls-verify=false",
		"--push-by-digest", repo, "--metadata-file", md, ctxDir}, sg.signFlags("a")...)...))
	m := readMetadata(t, md)
	if m.Name != repo+"@"+m.Digest {
		t.Fatalf("metadata names %s, want %s@DIGEST", m.Name, repo)
	}
	checkAttachments(t, repo, m.Name)
	sg.checkSigned(t, m.Name, sg.policy["a"], sg.policy["b"])
	tags := skopeo(t, "list-tags", "--tls-verify=false", "docker://"+repo)
	mustSucceed(t, tags)
	if strings.Contains(tags.Stdout, `"latest"`) {
		t.Errorf("push-by-digest with signing wrote a tag: %s", tags.Stdout)
	}

	// The fan-out merge signs with key b and carries the children's key a
	// signatures: each child's attachment holds both, the index's one.
	target := env.Registry + "/signed/merged:1"
	wrong := filepath.Join(sg.dir, "wrong")
	writeTestFile(t, wrong, "wrong\n")
	bad := polyarch(t, newStore(t), "index", "create", "--tls-verify=false", "--from-metadata", target, md,
		"--registries.d", sg.registriesD, "--sign-by-sigstore-private-key", sg.key["b"], "--sign-passphrase-file", wrong)
	if bad.Code != 125 || !strings.Contains(bad.Stderr, "passphrase") {
		t.Errorf("merge with a wrong passphrase: exit %d, want 125 naming the passphrase: %s", bad.Code, bad.Stderr)
	}
	if r := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+target); r.Code == 0 {
		t.Fatalf("a merge with a wrong passphrase pushed %s", target)
	}
	mustSucceed(t, polyarch(t, newStore(t), append([]string{"index", "create", "--tls-verify=false", "--from-metadata", target, md}, sg.signFlags("b")...)...))
	sg.checkSigned(t, target, sg.policy["b"], sg.policy["a"])
	raw := skopeoRaw(t, "docker://"+target)
	want := map[string]int{"sha256:" + sha256hex(raw): 1}
	for _, m := range decodeIndex(t, raw).Manifests {
		want[m.Digest.String()] = 2
	}
	for d, n := range want {
		var sig specs.Manifest
		if err := json.Unmarshal([]byte(skopeoRaw(t, "docker://"+env.Registry+"/signed/merged:"+strings.Replace(d, ":", "-", 1)+".sig")), &sig); err != nil {
			t.Fatal(err)
		}
		if len(sig.Layers) != n {
			t.Errorf("signed/merged@%s has %d signatures, want %d", d, len(sig.Layers), n)
		}
	}
}

// TestDockerListKeepsFormat builds --format docker into local storage
// only, then pushes it with index push and copies it with copy
// containers-storage:, both without --format: the registry holds a
// Docker manifest list of Docker schema 2 manifests whose configs keep
// HEALTHCHECK, SHELL and ONBUILD. --format oci still converts.
func TestDockerListKeepsFormat(t *testing.T) {
	s := newStore(t)
	ctx := writeContext(t, fmt.Sprintf(formatContainerfile, registryBase("latest")), nil)
	name := "localhost/dockerkeep:1"
	mustSucceed(t, polyarch(t, s, "build", "--platform", "linux/amd64,linux/arm64", "--format", "docker", "--tls-verify=false", "-t", name, ctx))
	pushed, copied, oci := env.Registry+"/dockerkeep/pushed:1", env.Registry+"/dockerkeep/copied:1", env.Registry+"/dockerkeep/oci:1"
	mustSucceed(t, polyarch(t, s, "index", "push", "--tls-verify=false", name, "docker://"+pushed))
	mustSucceed(t, polyarch(t, s, "copy", "--tls-verify=false", "containers-storage:"+name, "docker://"+copied))
	mustSucceed(t, polyarch(t, s, "index", "push", "--tls-verify=false", "--format", "oci", name, "docker://"+oci))
	for _, ref := range []string{pushed, copied} {
		raw := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+ref)
		mustSucceed(t, raw)
		list := decodeIndex(t, raw.Stdout)
		if list.MediaType != dockerListType || len(list.Manifests) != 2 {
			t.Errorf("%s is %s with %d entries, want a Docker manifest list of 2", ref, list.MediaType, len(list.Manifests))
		}
		for _, m := range list.Manifests {
			if m.MediaType != dockerManifestType {
				t.Errorf("%s lists %s as %s, want Docker schema 2", ref, m.Digest, m.MediaType)
			}
		}
		for _, arch := range []string{"amd64", "arm64"} {
			c := skopeo(t, "--override-arch", arch, "inspect", "--config", "--raw", "--tls-verify=false", "docker://"+ref)
			mustSucceed(t, c)
			checkDockerConfig(t, c.Stdout, arch)
		}
	}
	raw := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+oci)
	mustSucceed(t, raw)
	if mt := decodeIndex(t, raw.Stdout).MediaType; mt != "application/vnd.oci.image.index.v1+json" {
		t.Errorf("index push --format oci wrote %s, want an OCI index", mt)
	}
}
