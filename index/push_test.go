package index

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/oci/layout"
)

func TestPushFormats(t *testing.T) {
	f := newListFixture(t)
	ctx := context.Background()
	if _, err := Create(ctx, f.store, f.sys, "app:1", f.sources("s390x", "3arch"), CreateOptions{AddOptions: AddOptions{Replace: true}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		format, wantList, wantChild string
	}{
		{format: "", wantList: specs.MediaTypeImageIndex, wantChild: specs.MediaTypeImageManifest},
		{format: FormatV2S2, wantList: manifest.DockerV2ListMediaType, wantChild: manifest.DockerV2Schema2MediaType},
	} {
		t.Run("format="+tc.format, func(t *testing.T) {
			dir := t.TempDir()
			ref, err := layout.NewReference(filepath.Join(dir, "out"), "v1")
			if err != nil {
				t.Fatal(err)
			}
			digestFile := filepath.Join(dir, "digest")
			d, err := Push(ctx, f.store, f.sys, "app:1", ref, PushOptions{Format: tc.format, DigestFile: digestFile})
			if err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(digestFile); err != nil || string(b) != d.String() {
				t.Errorf("digest file holds %q (%v), want %s", b, err, d)
			}
			in, err := Inspect(ctx, ref, f.sys)
			if err != nil {
				t.Fatal(err)
			}
			if in.MediaType != tc.wantList || in.Digest != d {
				t.Errorf("pushed %s %s, want %s %s", in.MediaType, in.Digest, tc.wantList, d)
			}
			var got []string
			for _, m := range in.Manifests {
				got = append(got, m.Platform.Architecture)
				if m.MediaType != tc.wantChild {
					t.Errorf("child %s is %s, want %s", m.Digest, m.MediaType, tc.wantChild)
				}
			}
			if want := []string{"amd64", "arm64", "s390x"}; !reflect.DeepEqual(got, want) {
				t.Errorf("pushed platforms %v, want %v", got, want)
			}
		})
	}
}

func TestPushRefuses(t *testing.T) {
	f := newListFixture(t)
	ctx := context.Background()
	if _, err := Create(ctx, f.store, f.sys, "app:1", f.sources("amd64"), CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Remove(f.store, "app:1", "linux/amd64"); err != nil {
		t.Fatal(err)
	}
	ref, err := layout.NewReference(filepath.Join(t.TempDir(), "out"), "v1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, format, err string }{
		{name: "app:1", err: "it is empty"},
		{name: "app:2", err: "no such index"},
		{name: "app:1", format: "v2s1", err: `invalid manifest format "v2s1"`},
	} {
		_, err := Push(ctx, f.store, f.sys, tc.name, ref, PushOptions{Format: tc.format})
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Push(%s, format %q) = %v, want error containing %q", tc.name, tc.format, err, tc.err)
		}
	}
}
