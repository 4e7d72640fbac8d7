package index

import (
	"encoding/json"
	"reflect"
	"testing"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/manifest"
)

func TestKeepEntries(t *testing.T) {
	a, b, c := digest.FromString("a"), digest.FromString("b"), digest.FromString("c")
	entry := func(d digest.Digest, arch string) string {
		return `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + d.String() + `","size":10,"platform":{"architecture":"` + arch + `","os":"linux"}}`
	}
	for _, tc := range []struct {
		mime string
		raw  string
	}{
		{specs.MediaTypeImageIndex, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
			entry(a, "amd64") + `,` + entry(b, "arm64") + `,` + entry(c, "s390x") + `],"annotations":{"k":"v"}}`},
		{manifest.DockerV2ListMediaType, `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[` +
			entry(a, "amd64") + `,` + entry(b, "arm64") + `,` + entry(c, "s390x") + `]}`},
	} {
		out, err := keepEntries([]byte(tc.raw), tc.mime, []digest.Digest{b})
		if err != nil {
			t.Fatalf("%s: %v", tc.mime, err)
		}
		var got struct {
			MediaType   string
			Manifests   []specs.Descriptor
			Annotations map[string]string
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if got.MediaType != tc.mime || len(got.Manifests) != 1 || got.Manifests[0].Digest != b || got.Manifests[0].Platform.Architecture != "arm64" {
			t.Errorf("%s: kept %s", tc.mime, out)
		}
		if tc.mime == specs.MediaTypeImageIndex && !reflect.DeepEqual(got.Annotations, map[string]string{"k": "v"}) {
			t.Errorf("index annotations lost: %s", out)
		}
	}
}
