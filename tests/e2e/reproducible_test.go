package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
)

// reproRegistryContainerfile builds on the 3-platform registry base with
// a COPY and a RUN step.
const reproRegistryContainerfile = `FROM %s
COPY f.txt /f.txt
RUN echo made > /run.txt
`

// TestReproducibleRegistryBase builds one context from a registry base
// for three platforms with --jobs 3, twice, each time into a fresh store,
// to an OCI layout and to a registry tag, with --source-date-epoch and
// --rewrite-timestamp: both layouts and both tags hold byte-identical
// indexes and platform manifests, and so does a third layout built with
// --pull=always and --jobs 2. (Each platform used to pull the base by
// name: the name moved between the platforms' images, and the first
// history comment depended on timing.)
func TestReproducibleRegistryBase(t *testing.T) {
	ctxDir := writeContext(t, fmt.Sprintf(reproRegistryContainerfile, registryBase("3arch")), map[string]string{"f.txt": "same\n"})
	repo := env.Registry + "/repro/app"
	var digests []string
	var children [][]string
	for i := range 2 {
		out := filepath.Join(t.TempDir(), "out")
		tag := fmt.Sprintf("%s:build%d", repo, i)
		mustSucceed(t, polyarch(t, newStore(t), "build", "--jobs", "3", "--platform", "linux/amd64,linux/arm64,linux/s390x",
			"--source-date-epoch", "1700000000", "--rewrite-timestamp", "--tls-verify=false",
			"-t", tag, "--push", "-o", "type=oci,dest="+out, ctxDir))
		for _, ref := range []string{"oci:" + out + ":build" + fmt.Sprint(i), "docker://" + tag} {
			raw := skopeoRaw(t, ref)
			digests = append(digests, "sha256:"+sha256hex(raw))
			var ds []string
			for _, m := range decodeIndex(t, raw).Manifests {
				ds = append(ds, m.Digest.String())
			}
			children = append(children, ds)
		}
	}
	// A third build, with --pull=always and --jobs 2, to a layout only.
	out := filepath.Join(t.TempDir(), "out")
	mustSucceed(t, polyarch(t, newStore(t), "build", "--pull=always", "--jobs", "2", "--platform", "linux/amd64,linux/arm64,linux/s390x",
		"--source-date-epoch", "1700000000", "--rewrite-timestamp", "--tls-verify=false", "-o", "type=oci,dest="+out, ctxDir))
	raw := skopeoRaw(t, "oci:"+out+":latest")
	digests = append(digests, "sha256:"+sha256hex(raw))
	var ds []string
	for _, m := range decodeIndex(t, raw).Manifests {
		ds = append(ds, m.Digest.String())
	}
	children = append(children, ds)
	t.Logf("index digests (layout 1, registry 1, layout 2, registry 2, layout 3 with --pull=always --jobs 2): %v", digests)
	for i := range digests {
		if digests[i] != digests[0] {
			t.Errorf("index digest %d is %s, want %s like the first: %v", i, digests[i], digests[0], digests)
		}
		if len(children[i]) != 3 || fmt.Sprint(children[i]) != fmt.Sprint(children[0]) {
			t.Errorf("platform manifests %d are %v, want 3, %v like the first", i, children[i], children[0])
		}
	}
}
