package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// mediaTypeLiesLayout copies the fixture layout and adds two lying tags:
// "top", whose index.json descriptor calls busybox's amd64 image manifest
// an index, and "nested", an index whose first entry calls an image
// manifest an index. It returns the layout and the two lying digests.
func mediaTypeLiesLayout(t *testing.T) (dir string, top, nested digest.Digest) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "lies")
	mustSucceed(t, runCmd(t, "", "cp", "-a", filepath.Join(env.Fixtures, "busybox-oci"), dir))
	var idx specs.Index
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "index.json"))), &idx); err != nil {
		t.Fatal(err)
	}
	var single, three specs.Descriptor
	for _, m := range idx.Manifests {
		switch m.Annotations[specs.AnnotationRefName] {
		case "amd64-single":
			single = m
		case "3arch":
			three = m
		}
	}
	var inner specs.Index
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "blobs", "sha256", three.Digest.Encoded()))), &inner); err != nil {
		t.Fatal(err)
	}
	nested = inner.Manifests[0].Digest
	inner.Manifests[0].MediaType = specs.MediaTypeImageIndex
	raw, err := json.Marshal(inner)
	if err != nil {
		t.Fatal(err)
	}
	d := digest.FromBytes(raw)
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	lie := single
	lie.MediaType, lie.Platform = specs.MediaTypeImageIndex, nil
	lie.Annotations = map[string]string{specs.AnnotationRefName: "top"}
	nestedDesc := specs.Descriptor{MediaType: specs.MediaTypeImageIndex, Digest: d, Size: int64(len(raw)),
		Annotations: map[string]string{specs.AnnotationRefName: "nested"}}
	idx.Manifests = append(idx.Manifests, lie, nestedDesc)
	out, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, single.Digest, nested
}

// TestCopyRefusesMislabelledDocuments copies documents whose descriptor
// says index while they are image manifests, at the top of a layout and
// inside an index: copy refuses each, naming the digest and both media
// types, and writes nothing; the honest tags of that layout still copy.
func TestCopyRefusesMislabelledDocuments(t *testing.T) {
	s := newStore(t)
	dir, top, nested := mediaTypeLiesLayout(t)
	for _, tc := range []struct {
		tag  string
		want digest.Digest
	}{{"top", top}, {"nested", nested}} {
		t.Run(tc.tag, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			r := polyarch(t, s, "copy", "oci:"+dir+":"+tc.tag, "oci:"+out+":v1")
			for _, part := range []string{tc.want.String(), specs.MediaTypeImageIndex, specs.MediaTypeImageManifest} {
				if r.Code == 0 || !strings.Contains(r.Stderr, part) {
					t.Errorf("copy of a mislabelled document: exit %d, stderr %q; want a failure naming %s", r.Code, r.Stderr, part)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a refused copy created %s: %v", out, err)
			}
		})
	}
	out := filepath.Join(t.TempDir(), "honest")
	mustSucceed(t, polyarch(t, s, "copy", "oci:"+dir+":3arch", "oci:"+out+":v1"))
	if got, want := skopeoDigest(t, "oci:"+out+":v1"), skopeoDigest(t, fixtureIndex()); got != want {
		t.Errorf("honest tag copied as %s, want %s", got, want)
	}
}
