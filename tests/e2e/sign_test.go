package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// signing is the key material and configuration of one signing test: two
// key pairs made by `polyarch key generate`, a registries.d directory
// storing the test registry's signatures as sigstore attachments, and a
// policy per key requiring it for that registry.
type signing struct {
	dir, pass, registriesD string
	key, policy            map[string]string // "a", "b" -> private key, policy.json
}

// newSigning generates keys a and b and writes the configuration.
func newSigning(t *testing.T) signing {
	t.Helper()
	dir := t.TempDir()
	sg := signing{dir: dir, pass: filepath.Join(dir, "pass"), registriesD: filepath.Join(dir, "registries.d"),
		key: map[string]string{}, policy: map[string]string{}}
	writeTestFile(t, sg.pass, "correct horse\n")
	writeTestFile(t, filepath.Join(sg.registriesD, "test.yaml"), fmt.Sprintf("docker:\n  %s:\n    use-sigstore-attachments: true\n", env.Registry))
	for _, name := range []string{"a", "b"} {
		prefix := filepath.Join(dir, name)
		r := runCmd(t, "", env.Bin, "key", "generate", "--output-prefix", prefix, "--passphrase-file", sg.pass)
		mustSucceed(t, r)
		if r.Stdout != prefix+".key\n"+prefix+".pub\n" {
			t.Fatalf("key generate printed %q, want the two paths", r.Stdout)
		}
		sg.key[name] = prefix + ".key"
		sg.policy[name] = sg.writePolicy(t, name, `{"type":"matchRepoDigestOrExact"}`)
	}
	return sg
}

// writePolicy writes a policy requiring key name's signature, with the
// signedIdentity given, for every image of the test registry.
func (sg signing) writePolicy(t *testing.T, name, identity string) string {
	t.Helper()
	p := filepath.Join(sg.dir, fmt.Sprintf("policy-%s-%d.json", name, len(sg.policy)+len(identity)))
	writeTestFile(t, p, fmt.Sprintf(`{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{%q:[{"type":"sigstoreSigned","keyPath":%q,"signedIdentity":%s}]}}}`,
		env.Registry, filepath.Join(sg.dir, name+".pub"), identity))
	return p
}

// signFlags are the flags signing with key name.
func (sg signing) signFlags(name string) []string {
	return []string{"--registries.d", sg.registriesD, "--sign-by-sigstore-private-key", sg.key[name], "--sign-passphrase-file", sg.pass}
}

// verifiers are the programs that check a signed image against a policy:
// containers/image's policy engine as polyarch copy runs it, and, when
// POLYARCH_SIGSTORE_SKOPEO names one (make e2e builds it, see
// tests/tools/sigstore-skopeo.sh), an upstream skopeo: Debian's skopeo
// 1.9 is built with sigstore verification disabled ("Debian-local
// change: sigstore disabled").
func (sg signing) verifiers(t *testing.T) map[string]func(ref, policy string) result {
	v := map[string]func(ref, policy string) result{
		"polyarch copy": func(ref, policy string) result {
			return polyarch(t, newStore(t), "copy", "-q", "--tls-verify=false", "--signature-policy", policy, "--registries.d", sg.registriesD,
				"--remove-signatures", "docker://"+ref, "oci:"+filepath.Join(t.TempDir(), "out")+":v")
		},
	}
	if bin := os.Getenv("POLYARCH_SIGSTORE_SKOPEO"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("POLYARCH_SIGSTORE_SKOPEO: %v (make sigstore-skopeo builds it)", err)
		}
		v["skopeo "+bin] = func(ref, policy string) result {
			return runCmd(t, "", "env", "REGISTRY_AUTH_FILE="+env.SkopeoAuth, bin, "--policy", policy, "--registries.d", sg.registriesD,
				"copy", "--all", "--remove-signatures", "--src-tls-verify=false", "docker://"+ref, "oci:"+filepath.Join(t.TempDir(), "out")+":v")
		}
	} else {
		t.Logf("POLYARCH_SIGSTORE_SKOPEO unset: verifying with containers/image's policy engine through polyarch copy only")
	}
	return v
}

// checkSigned asserts every verifier accepts ref under the policy of key
// good and rejects it under the policy of key bad, naming the signature.
func (sg signing) checkSigned(t *testing.T, ref, good, bad string) {
	t.Helper()
	for name, verify := range sg.verifiers(t) {
		if r := verify(ref, good); r.Code != 0 {
			t.Errorf("%s: %s rejected under the policy of its key: %s", name, ref, r.Stderr)
		}
		r := verify(ref, bad)
		if r.Code == 0 || !strings.Contains(r.Stderr, "signature") {
			t.Errorf("%s: %s under another key's policy: exit %d, want a signature rejection: %s", name, ref, r.Code, r.Stderr)
		}
	}
}

// checkAttachments asserts, with the system's skopeo, that the registry
// holds a sigstore signature attachment for every manifest of the index
// at ref, and for the index itself.
func checkAttachments(t *testing.T, repo, ref string) {
	t.Helper()
	raw := skopeoRaw(t, "docker://"+ref)
	digests := []string{"sha256:" + sha256hex(raw)}
	for _, m := range decodeIndex(t, raw).Manifests {
		digests = append(digests, m.Digest.String())
	}
	if len(digests) < 4 {
		t.Fatalf("%s lists %d manifests, want 3 platforms", ref, len(digests)-1)
	}
	for _, d := range digests {
		var sig specs.Manifest
		if err := json.Unmarshal([]byte(skopeoRaw(t, "docker://"+repo+":"+strings.Replace(d, ":", "-", 1)+".sig")), &sig); err != nil {
			t.Fatal(err)
		}
		if len(sig.Layers) != 1 || sig.Layers[0].MediaType != "application/vnd.dev.cosign.simplesigning.v1+json" {
			t.Errorf("signature attachment of %s@%s: want one cosign simplesigning layer, got %+v", repo, d, sig.Layers)
		}
	}
}

// writeTestFile writes content to path, creating its directory.
func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// signContainerfile copies a file onto the 3-platform registry base.
const signContainerfile = "FROM %s\nCOPY f.txt /f.txt\n"

// TestSignedBuildPush signs a 3-platform build --push with key a: every
// platform manifest and the index get a sigstore attachment, accepted
// under a policy requiring key a and rejected under one requiring key b.
// A wrong passphrase fails before anything is built or pushed.
func TestSignedBuildPush(t *testing.T) {
	sg := newSigning(t)
	repo := env.Registry + "/signed/build"
	ctxDir := writeContext(t, fmt.Sprintf(signContainerfile, registryBase("3arch")), map[string]string{"f.txt": "signed\n"})
	build := []string{"build", "--platform", "linux/amd64,linux/arm64,linux/s390x", "--tls-verify=false", "-t", repo + ":v1", "--push"}

	wrong := filepath.Join(sg.dir, "wrong")
	writeTestFile(t, wrong, "wrong\n")
	bad := polyarch(t, newStore(t), append(build, "--registries.d", sg.registriesD, "--sign-by-sigstore-private-key", sg.key["a"], "--sign-passphrase-file", wrong, ctxDir)...)
	if bad.Code != 125 || !strings.Contains(bad.Stderr, sg.key["a"]) || !strings.Contains(bad.Stderr, "passphrase") {
		t.Errorf("wrong passphrase: exit %d, want 125 naming the key and its passphrase: %s", bad.Code, bad.Stderr)
	}
	if r := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+repo+":v1"); r.Code == 0 {
		t.Fatalf("a build with a wrong passphrase pushed %s", repo)
	}

	mustSucceed(t, polyarch(t, newStore(t), append(append(build, sg.signFlags("a")...), ctxDir)...))
	checkAttachments(t, repo, repo+":v1")
	sg.checkSigned(t, repo+":v1", sg.policy["a"], sg.policy["b"])
	for name, verify := range sg.verifiers(t) {
		if r := verify(registryBase("3arch"), sg.policy["a"]); r.Code == 0 || !strings.Contains(r.Stderr, "no signature exists") {
			t.Errorf("%s: the unsigned base passed a policy requiring a signature: exit %d: %s", name, r.Code, r.Stderr)
		}
	}
}

// TestSignedIndexPushAndCopy signs an index push (key a) and a copy (key
// b); an unsigned copy of the signed image to another repository keeps
// its signatures, verified there against the original repository.
func TestSignedIndexPushAndCopy(t *testing.T) {
	sg := newSigning(t)
	s := newStore(t)
	pushed, copied, kept := env.Registry+"/signed/pushed:v1", env.Registry+"/signed/copied:v1", env.Registry+"/signed/kept:v1"
	mustSucceed(t, polyarch(t, s, "index", "create", "local/signed:v1", "docker://"+registryBase("3arch"), "--tls-verify=false"))
	mustSucceed(t, polyarch(t, s, append([]string{"index", "push", "--tls-verify=false", "local/signed:v1", "docker://" + pushed}, sg.signFlags("a")...)...))
	checkAttachments(t, env.Registry+"/signed/pushed", pushed)
	sg.checkSigned(t, pushed, sg.policy["a"], sg.policy["b"])

	mustSucceed(t, polyarch(t, s, append([]string{"copy", "--tls-verify=false", "docker://" + registryBase("3arch"), "docker://" + copied}, sg.signFlags("b")...)...))
	checkAttachments(t, env.Registry+"/signed/copied", copied)
	sg.checkSigned(t, copied, sg.policy["b"], sg.policy["a"])

	mustSucceed(t, polyarch(t, s, "copy", "--tls-verify=false", "--registries.d", sg.registriesD, "docker://"+pushed, "docker://"+kept))
	checkAttachments(t, env.Registry+"/signed/kept", kept)
	fromPushed := fmt.Sprintf(`{"type":"exactRepository","dockerRepository":%q}`, env.Registry+"/signed/pushed")
	sg.checkSigned(t, kept, sg.writePolicy(t, "a", fromPushed), sg.writePolicy(t, "b", fromPushed))

	// A platform subset rewrites the index (unsigned now) and keeps the
	// signature of the image it copies.
	subset := env.Registry + "/signed/subset"
	mustSucceed(t, polyarch(t, s, "copy", "--tls-verify=false", "--registries.d", sg.registriesD, "--platform", "linux/arm64", "docker://"+pushed, "docker://"+subset+":v1"))
	arm64 := entryFor(t, decodeIndex(t, skopeoRaw(t, "docker://"+subset+":v1")), "arm64").Digest.String()
	sg.checkSigned(t, subset+"@"+arm64, sg.writePolicy(t, "a", fromPushed), sg.writePolicy(t, "b", fromPushed))

	noAttachments := env.Registry + "/signed/nowhere:v1"
	r := polyarch(t, s, "copy", "--tls-verify=false", "--registries.d", t.TempDir(), "--sign-by-sigstore-private-key", sg.key["a"], "--sign-passphrase-file", sg.pass,
		"docker://"+registryBase("3arch"), "docker://"+noAttachments)
	if r.Code == 0 || !strings.Contains(r.Stderr, "use-sigstore-attachments: true") {
		t.Errorf("signing without use-sigstore-attachments: exit %d, want an error naming the setting: %s", r.Code, r.Stderr)
	}
	if r := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+noAttachments); r.Code == 0 {
		t.Errorf("a copy whose signatures could not be stored wrote the tag %s", noAttachments)
	}

	oci := polyarch(t, s, append([]string{"index", "push", "local/signed:v1", "oci:" + filepath.Join(t.TempDir(), "l")}, sg.signFlags("a")...)...)
	if oci.Code == 0 || !strings.Contains(oci.Stderr, "registries only") {
		t.Errorf("signing an OCI layout push: exit %d, want a refusal: %s", oci.Code, oci.Stderr)
	}
}

// TestKeyGenerateRefusals checks that key generate refuses to run without
// a passphrase source and never replaces a key.
func TestKeyGenerateRefusals(t *testing.T) {
	dir := t.TempDir()
	r := runCmd(t, "", "sh", "-c", env.Bin+" key generate --output-prefix "+filepath.Join(dir, "k")+" </dev/null")
	if r.Code != 125 || !strings.Contains(r.Stderr, "--passphrase-file") {
		t.Errorf("without a terminal or --passphrase-file: exit %d, want 125 naming --passphrase-file: %s", r.Code, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "k.key")); err == nil {
		t.Error("a refused key generate left k.key")
	}
	pass := filepath.Join(dir, "pass")
	writeTestFile(t, pass, "x\n")
	writeTestFile(t, filepath.Join(dir, "k.pub"), "mine")
	r = runCmd(t, "", env.Bin, "key", "generate", "--output-prefix", filepath.Join(dir, "k"), "--passphrase-file", pass)
	if r.Code == 0 || !strings.Contains(r.Stderr, "already exists") || readFile(t, filepath.Join(dir, "k.pub")) != "mine" {
		t.Errorf("over an existing k.pub: exit %d, want a refusal leaving it: %s", r.Code, r.Stderr)
	}
}
