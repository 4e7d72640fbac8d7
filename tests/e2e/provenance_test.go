package e2e

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// provenanceSecret is a --secret value that must never reach a registry.
const provenanceSecret = "pr0v-S3cret-Value-never-pushed"

// provenanceContainerfile uses a secret and a build arg in a RUN step, so
// that the foreign platform's step runs under qemu.
const provenanceContainerfile = `FROM base
ARG FLAVOUR
RUN --mount=type=secret,id=tok test -s /run/secrets/tok && echo "$FLAVOUR" > /flavour
`

// statement is the part of an in-toto SLSA provenance statement checked.
type statement struct {
	Type    string `json:"_type"`
	Subject []struct {
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	PredicateType string `json:"predicateType"`
	Predicate     struct {
		BuildDefinition struct {
			BuildType          string `json:"buildType"`
			ExternalParameters struct {
				Containerfile struct {
					Path   string            `json:"path"`
					Digest map[string]string `json:"digest"`
				} `json:"containerfile"`
				BuildArgs map[string]string `json:"buildArgs"`
				Secrets   []string          `json:"secrets"`
				Platform  string            `json:"platform"`
				Platforms []string          `json:"platforms"`
			} `json:"externalParameters"`
			ResolvedDependencies []struct {
				URI         string            `json:"uri"`
				Name        string            `json:"name"`
				Digest      map[string]string `json:"digest"`
				Annotations map[string]string `json:"annotations"`
			} `json:"resolvedDependencies"`
		} `json:"buildDefinition"`
		RunDetails struct {
			Builder struct {
				ID string `json:"id"`
			} `json:"builder"`
			Metadata struct {
				InvocationID string `json:"invocationId"`
				StartedOn    string `json:"startedOn"`
				FinishedOn   string `json:"finishedOn"`
			} `json:"metadata"`
		} `json:"runDetails"`
	} `json:"predicate"`
}

// inspectReferrers is the part of `index inspect --referrers --format
// json` checked.
type inspectReferrers struct {
	Manifests []specs.Descriptor `json:"manifests"`
	Referrers []struct {
		Subject   string `json:"subject"`
		Source    string `json:"source"`
		Referrers []struct {
			ArtifactType, Digest, PredicateType string
			Size                                int64
		} `json:"referrers"`
	} `json:"referrers"`
}

// provenanceBuild builds provenanceContainerfile for amd64 and arm64
// (emulated on an amd64 host) from the fixture busybox layout (the
// registry's busybox:latest holds the same manifests), with a secret
// and a build arg, reproducibly (a fixed epoch, file times clamped), in
// a clean store.
func provenanceBuild(t *testing.T, extra ...string) result {
	t.Helper()
	ctxDir := writeContext(t, provenanceContainerfile, nil)
	secret := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(secret, []byte(provenanceSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64",
		"--build-arg", "FLAVOUR=salty", "--secret", "id=tok,src=" + secret,
		"--source-date-epoch", "1700000000", "--rewrite-timestamp",
		"--build-context", "base=oci-layout://" + filepath.Join(env.Fixtures, "busybox-oci") + ":latest"}, extra...)
	return polyarch(t, newStore(t), append(args, ctxDir)...)
}

// listReferrers runs polyarch index inspect --referrers on ref.
func listReferrers(t *testing.T, ref string) inspectReferrers {
	t.Helper()
	r := polyarch(t, newStore(t), "index", "inspect", "--tls-verify=false", "--referrers", "--format", "json", ref)
	mustSucceed(t, r)
	var out inspectReferrers
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("decoding index inspect --referrers: %v", err)
	}
	return out
}

// registryBlob fetches a blob from the test registry with curl.
func registryBlob(t *testing.T, repo, d string) []byte {
	t.Helper()
	r := runCmd(t, "", "curl", "-sSf", "http://"+env.Registry+"/v2/"+repo+"/blobs/"+d)
	mustSucceed(t, r)
	return []byte(r.Stdout)
}

// fallbackReferrer reads the subject's referrers tag (sha256-<hex>) with
// skopeo, checks it lists exactly one in-toto artifact, reads that
// artifact's manifest and returns it with its statement's bytes.
func fallbackReferrer(t *testing.T, repo, subject string) (specs.Manifest, []byte) {
	t.Helper()
	list := decodeIndex(t, skopeoRaw(t, "docker://"+env.Registry+"/"+repo+":"+strings.Replace(subject, ":", "-", 1)))
	if len(list.Manifests) != 1 || list.Manifests[0].ArtifactType != "application/vnd.in-toto+json" {
		t.Fatalf("referrers tag of %s lists %+v, want one in-toto artifact", subject, list.Manifests)
	}
	var m specs.Manifest
	raw := skopeoRaw(t, "docker://"+env.Registry+"/"+repo+"@"+list.Manifests[0].Digest.String())
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != "application/vnd.in-toto+json" || m.Config.MediaType != "application/vnd.oci.empty.v1+json" ||
		len(m.Layers) != 1 || m.Layers[0].MediaType != "application/vnd.in-toto+json" ||
		m.Annotations["in-toto.io/predicate-type"] != "https://slsa.dev/provenance/v1" {
		t.Fatalf("referrer %s of %s is not an in-toto OCI 1.1 artifact: %s", list.Manifests[0].Digest, subject, raw)
	}
	if m.Subject == nil || m.Subject.Digest.String() != subject {
		t.Fatalf("referrer %s names subject %v, want %s", list.Manifests[0].Digest, m.Subject, subject)
	}
	return m, registryBlob(t, repo, m.Layers[0].Digest.String())
}

// TestProvenanceReferrers builds two platforms (arm64 emulated) with
// --push and checks each child's provenance, found by polyarch index
// inspect --referrers and independently through the referrers tag (the
// Debian registry has no referrers API): subject, predicate type, the
// base's digest for that platform, qemu for the emulated one only, the
// secret's id but never its value. The index lists only the two
// platforms; a second build in a clean store writes the same provenance
// bytes; --provenance=false pushes none.
func TestProvenanceReferrers(t *testing.T) {
	repo := "prov/app"
	mustSucceed(t, provenanceBuild(t, "-t", env.Registry+"/"+repo+":1", "--push"))
	idx := decodeIndex(t, skopeoRaw(t, "docker://"+env.Registry+"/"+repo+":1"))
	if got := platformsOf(idx); strings.Join(got, ",") != "linux/amd64,linux/arm64" {
		t.Fatalf("index lists %v, want linux/amd64 and linux/arm64 only (no unknown/unknown entries)", got)
	}
	listed := listReferrers(t, "docker://"+env.Registry+"/"+repo+":1")
	if len(listed.Referrers) != 3 {
		t.Fatalf("index inspect --referrers lists %d subjects, want the index and its two children", len(listed.Referrers))
	}
	base := decodeIndex(t, skopeoRaw(t, "docker://"+registryBase("latest")))
	payloads := map[string][]byte{}
	for i, arch := range []string{"amd64", "arm64"} {
		child := entryFor(t, idx, arch).Digest.String()
		sub := listed.Referrers[i+1]
		if sub.Subject != child || len(sub.Referrers) != 1 || sub.Referrers[0].PredicateType != "https://slsa.dev/provenance/v1" ||
			sub.Referrers[0].ArtifactType != "application/vnd.in-toto+json" || !strings.HasPrefix(sub.Source, "tag sha256-") {
			t.Fatalf("%s: index inspect --referrers gives %+v, want one SLSA provenance of %s from its referrers tag", arch, sub, child)
		}
		_, payload := fallbackReferrer(t, repo, child)
		payloads[arch] = payload
		checkStatement(t, arch, payload, child, entryFor(t, base, arch).Digest.String())
	}
	if top := listed.Referrers[0]; top.Subject != skopeoDigestOf(t, repo+":1") || len(top.Referrers) != 1 {
		t.Errorf("the index's referrers are %+v, want one provenance of the index", top)
	}
	t.Logf("provenance of linux/arm64:\n%s", prettyJSON(payloads["arm64"]))

	// A clean store, the same inputs: the same statements, so the
	// referrers tag still lists the one artifact of each child.
	mustSucceed(t, provenanceBuild(t, "-t", env.Registry+"/"+repo+":1", "--push"))
	if again := skopeoDigestOf(t, repo+":1"); again != listed.Referrers[0].Subject {
		t.Fatalf("the second build pushed index %s, the first %s: the build is not reproducible, so its provenance cannot be compared", again, listed.Referrers[0].Subject)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		_, again := fallbackReferrer(t, repo, entryFor(t, idx, arch).Digest.String())
		if !bytes.Equal(again, payloads[arch]) {
			t.Errorf("%s: the second build's provenance differs under --source-date-epoch:\n%s\nvs\n%s", arch, again, payloads[arch])
		}
	}

	// --provenance=false: no referrer for any child of another repository.
	mustSucceed(t, provenanceBuild(t, "-t", env.Registry+"/prov/none:1", "--push", "--provenance=false"))
	for _, sub := range listReferrers(t, "docker://"+env.Registry+"/prov/none:1").Referrers {
		if len(sub.Referrers) != 0 {
			t.Errorf("--provenance=false pushed referrers of %s: %+v", sub.Subject, sub.Referrers)
		}
	}
}

// checkStatement checks one child's provenance statement.
func checkStatement(t *testing.T, arch string, payload []byte, child, baseDigest string) {
	t.Helper()
	if bytes.Contains(payload, []byte(provenanceSecret)) {
		t.Fatalf("%s: the provenance holds the secret's value: %s", arch, payload)
	}
	var st statement
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatalf("%s: decoding the statement: %v", arch, err)
	}
	p := st.Predicate
	ext := p.BuildDefinition.ExternalParameters
	switch {
	case st.Type != "https://in-toto.io/Statement/v1" || st.PredicateType != "https://slsa.dev/provenance/v1":
		t.Errorf("%s: statement type %q, predicate %q", arch, st.Type, st.PredicateType)
	case len(st.Subject) != 1 || "sha256:"+st.Subject[0].Digest["sha256"] != child:
		t.Errorf("%s: subject %+v, want %s", arch, st.Subject, child)
	case ext.Platform != "linux/"+arch || ext.Containerfile.Path != "Containerfile" || len(ext.Containerfile.Digest["sha256"]) != 64:
		t.Errorf("%s: external parameters %+v", arch, ext)
	case ext.BuildArgs["FLAVOUR"] != "salty" || strings.Join(ext.Secrets, ",") != "tok":
		t.Errorf("%s: build args %v, secrets %v; want FLAVOUR=salty and the secret id tok", arch, ext.BuildArgs, ext.Secrets)
	case !strings.HasPrefix(p.RunDetails.Builder.ID, "https://github.com/polyarch/polyarch@"):
		t.Errorf("%s: builder id %q", arch, p.RunDetails.Builder.ID)
	case p.RunDetails.Metadata.StartedOn != "2023-11-14T22:13:20Z" || p.RunDetails.Metadata.FinishedOn != "2023-11-14T22:13:20Z":
		t.Errorf("%s: times %+v not clamped to the epoch", arch, p.RunDetails.Metadata)
	}
	var bases, qemus int
	for _, d := range p.BuildDefinition.ResolvedDependencies {
		switch {
		case d.Name == "base image":
			bases++
			if "sha256:"+d.Digest["sha256"] != baseDigest {
				t.Errorf("%s: base digest %s, want %s (the base's %s manifest)", arch, d.Digest["sha256"], baseDigest, arch)
			}
		case strings.HasPrefix(d.URI, "file:///") && strings.Contains(d.URI, "qemu-aarch64"):
			qemus++
			if len(d.Digest["sha256"]) != 64 || d.Annotations["version"] == "" {
				t.Errorf("%s: qemu dependency %+v lacks its digest or version", arch, d)
			}
		}
	}
	wantQemu := 0
	if arch == "arm64" {
		wantQemu = 1
	}
	if bases != 1 || qemus != wantQemu {
		t.Errorf("%s: %d base and %d qemu dependencies, want 1 and %d: %+v", arch, bases, qemus, wantQemu, p.BuildDefinition.ResolvedDependencies)
	}
}

// skopeoDigestOf returns the digest of repo:tag in the test registry.
func skopeoDigestOf(t *testing.T, repoTag string) string {
	t.Helper()
	r := skopeo(t, "inspect", "--tls-verify=false", "--format", "{{.Digest}}", "docker://"+env.Registry+"/"+repoTag)
	mustSucceed(t, r)
	return strings.TrimSpace(r.Stdout)
}

// prettyJSON indents a JSON document for the log.
func prettyJSON(b []byte) string {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return string(b)
	}
	return out.String()
}

// TestProvenanceMergeCarriesReferrers pushes two platforms by digest
// (provenance on by default) and merges them into another repository:
// each child's provenance is copied along, listed in the target's
// referrers tags.
func TestProvenanceMergeCarriesReferrers(t *testing.T) {
	f := pushTwoPlatforms(t, env.Registry+"/provmerge/src")
	for _, d := range []string{f.amd64, f.arm64} {
		fallbackReferrer(t, "provmerge/src", d)
	}
	target := env.Registry + "/provmerge/dst:1"
	mustSucceed(t, polyarch(t, newStore(t), "index", "create", "--tls-verify=false", "--from-metadata", target, f.metadata))
	listed := listReferrers(t, "docker://"+target)
	for _, d := range []string{f.amd64, f.arm64} {
		_, src := fallbackReferrer(t, "provmerge/src", d)
		_, dst := fallbackReferrer(t, "provmerge/dst", d)
		if !bytes.Equal(src, dst) {
			t.Errorf("the merged child %s's provenance differs from its source's", d)
		}
		found := false
		for _, sub := range listed.Referrers {
			found = found || sub.Subject == d && len(sub.Referrers) == 1
		}
		if !found {
			t.Errorf("index inspect --referrers of the merge lists no referrer of %s: %+v", d, listed.Referrers)
		}
	}
}

// TestProvenanceInLayout checks that an explicit --provenance writes the
// statements into an OCI layout (untagged index.json entries whose
// subject is a child), found by index inspect --referrers, and that by
// default a layout gets none.
func TestProvenanceInLayout(t *testing.T) {
	dir := t.TempDir()
	with, without := filepath.Join(dir, "with"), filepath.Join(dir, "without")
	mustSucceed(t, provenanceBuild(t, "-t", "localhost/prov:l", "-o", "type=oci,dest="+with, "--provenance"))
	mustSucceed(t, provenanceBuild(t, "-t", "localhost/prov:l", "-o", "type=oci,dest="+without))
	listed := listReferrers(t, "oci:"+with+":l")
	if len(listed.Referrers) != 3 {
		t.Fatalf("%d subjects, want the index and two children", len(listed.Referrers))
	}
	for _, sub := range listed.Referrers {
		if len(sub.Referrers) != 1 || sub.Referrers[0].PredicateType != "https://slsa.dev/provenance/v1" || sub.Source != "layout index.json" {
			t.Errorf("layout referrers of %s: %+v", sub.Subject, sub)
		}
	}
	for _, sub := range listReferrers(t, "oci:"+without+":l").Referrers {
		if len(sub.Referrers) != 0 {
			t.Errorf("a layout written without --provenance holds referrers of %s", sub.Subject)
		}
	}
	var idx specs.Index
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(without, "index.json"))), &idx); err != nil || len(idx.Manifests) != 1 {
		t.Errorf("index.json of the default layout: %d entries (%v), want 1", len(idx.Manifests), err)
	}
}

// TestProvenanceReferrersAPI pushes to a registry with the referrers API
// (go-containerregistry's registry, in process, OCI distribution 1.1):
// the statements are found through GET /v2/<name>/referrers/<digest>
// and no sha256-<hex> tag is written.
func TestProvenanceReferrersAPI(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true)))
	defer srv.Close()
	host := srv.Listener.Addr().String()
	mustSucceed(t, provenanceBuild(t, "-t", host+"/api/app:1", "--push"))
	idx := decodeIndex(t, skopeoRaw(t, "docker://"+host+"/api/app:1"))
	listed := listReferrers(t, "docker://"+host+"/api/app:1")
	if len(listed.Referrers) != 3 {
		t.Fatalf("%d subjects, want the index and its two children", len(listed.Referrers))
	}
	for _, sub := range listed.Referrers {
		if sub.Source != "referrers API" || len(sub.Referrers) != 1 || sub.Referrers[0].PredicateType != "https://slsa.dev/provenance/v1" {
			t.Errorf("referrers of %s: %+v, want one SLSA provenance from the referrers API", sub.Subject, sub)
		}
	}
	for _, arch := range []string{"amd64", "arm64"} {
		child := entryFor(t, idx, arch).Digest.String()
		r := runCmd(t, "", "curl", "-sSf", "http://"+host+"/v2/api/app/referrers/"+child)
		mustSucceed(t, r)
		// This registry's list takes artifactType from the config and
		// leaves annotations out; the manifest itself is checked.
		list := decodeIndex(t, r.Stdout)
		if len(list.Manifests) != 1 {
			t.Fatalf("%s: the referrers API lists %+v, want one artifact", arch, list.Manifests)
		}
		var m specs.Manifest
		if err := json.Unmarshal([]byte(skopeoRaw(t, "docker://"+host+"/api/app@"+list.Manifests[0].Digest.String())), &m); err != nil {
			t.Fatal(err)
		}
		if m.ArtifactType != "application/vnd.in-toto+json" || m.Subject == nil || m.Subject.Digest.String() != child {
			t.Fatalf("%s: the referrer %s is not an in-toto artifact about %s: %+v", arch, list.Manifests[0].Digest, child, m)
		}
		r = runCmd(t, "", "curl", "-sSf", "http://"+host+"/v2/api/app/blobs/"+m.Layers[0].Digest.String())
		mustSucceed(t, r)
		checkStatement(t, arch, []byte(r.Stdout), child, entryFor(t, decodeIndex(t, skopeoRaw(t, "docker://"+registryBase("latest"))), arch).Digest.String())
	}
	r := runCmd(t, "", "curl", "-sSf", "http://"+host+"/v2/api/app/tags/list")
	mustSucceed(t, r)
	if strings.Contains(r.Stdout, "sha256-") {
		t.Errorf("a referrers tag was written to a registry with the referrers API: %s", r.Stdout)
	}
}

// TestProvenanceAuthTLSRegistry pushes provenance to an https registry of
// a private CA requiring credentials (--authfile, --cert-dir): the
// referrers requests polyarch makes itself authenticate and verify the
// certificate as containers/image does.
func TestProvenanceAuthTLSRegistry(t *testing.T) {
	s := newStore(t)
	reg := startSecureRegistry(t)
	auth := filepath.Join(t.TempDir(), "auth.json")
	mustSucceed(t, polyarchStdin(t, s, reg.Secret, "login", "--authfile", auth, "--cert-dir", reg.CADir, "-u", authUser, "--password-stdin", reg.Addr))
	ctxDir := writeContext(t, "FROM base\nLABEL secure=yes\n", nil)
	image := reg.Addr + "/secure/prov:1"
	mustSucceed(t, polyarch(t, s, "build", "--authfile", auth, "--cert-dir", reg.CADir, "--platform", "linux/amd64",
		"--build-context", "base=oci-layout://"+filepath.Join(env.Fixtures, "busybox-oci")+":latest", "-t", image, "--push", ctxDir))
	r := polyarch(t, s, "index", "inspect", "--authfile", auth, "--cert-dir", reg.CADir, "--referrers", "--format", "json", "docker://"+image)
	mustSucceed(t, r)
	var out inspectReferrers
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Referrers) != 1 || len(out.Referrers[0].Referrers) != 1 || out.Referrers[0].Referrers[0].PredicateType != "https://slsa.dev/provenance/v1" {
		t.Fatalf("referrers of the single image: %+v, want its one provenance", out.Referrers)
	}
}
