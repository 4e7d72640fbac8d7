package index

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/types"
)

// fixtureLayout returns the 3-platform fixture index and a system context.
func fixtureLayout(t *testing.T) (types.ImageReference, *types.SystemContext) {
	t.Helper()
	fixtures := os.Getenv("POLYARCH_FIXTURES")
	if fixtures == "" {
		t.Fatal("POLYARCH_FIXTURES is not set: run `make unit` (it builds the fixtures)")
	}
	src, err := layout.NewReference(filepath.Join(fixtures, "busybox-oci"), "3arch")
	if err != nil {
		t.Fatal(err)
	}
	sys, err := SystemContext(RegistryOptions{}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return src, sys
}

func TestCopyLayoutToLayout(t *testing.T) {
	ctx := context.Background()
	src, sys := fixtureLayout(t)
	before, err := Inspect(ctx, src, sys)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		platforms []string
		want      []string
	}{
		{name: "all", want: []string{"linux/amd64", "linux/arm64", "linux/s390x"}},
		{name: "subset", platforms: []string{"linux/s390x", "linux/amd64"}, want: []string{"linux/amd64", "linux/s390x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst, err := layout.NewReference(filepath.Join(t.TempDir(), "out"), "v1")
			if err != nil {
				t.Fatal(err)
			}
			opts := CopyOptions{SourceCtx: sys, DestinationCtx: sys}
			for _, p := range tc.platforms {
				opts.Platforms = append(opts.Platforms, platforms.MustParse(p))
			}
			res, err := Copy(ctx, src, dst, opts)
			if err != nil {
				t.Fatal(err)
			}
			after, err := Inspect(ctx, dst, sys)
			if err != nil {
				t.Fatal(err)
			}
			if res.Digest != after.Digest || res.SourceDigest != before.Digest || res.Rewritten() != (tc.platforms != nil) {
				t.Errorf("result %+v: written %s, source %s", res, after.Digest, before.Digest)
			}
			var got []string
			for _, m := range after.Manifests {
				got = append(got, platforms.Format(platforms.Normalize(*m.Platform)))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("copied platforms %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCopyMissingPlatformWritesNothing(t *testing.T) {
	src, sys := fixtureLayout(t)
	out := filepath.Join(t.TempDir(), "out")
	dst, err := layout.NewReference(out, "v1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Copy(context.Background(), src, dst, CopyOptions{SourceCtx: sys, DestinationCtx: sys, Platforms: []specs.Platform{platforms.MustParse("linux/ppc64le")}})
	if err == nil || !strings.Contains(err.Error(), "has no linux/ppc64le image; it has linux/amd64, linux/arm64, linux/s390x") {
		t.Fatalf("Copy of a missing platform: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("destination written: %v", err)
	}
}

func TestSelectInstances(t *testing.T) {
	entry := func(d, p string, annotations map[string]string) specs.Descriptor {
		pl := platforms.MustParse(p)
		return specs.Descriptor{Digest: digest.Digest(d), Platform: &pl, Annotations: annotations}
	}
	entries := []specs.Descriptor{
		entry("sha256:a", "linux/amd64", nil),
		entry("sha256:b", "linux/arm64/v8", nil),
		entry("sha256:c", "linux/arm/v7", nil),
		{Digest: "sha256:x", Platform: &specs.Platform{OS: "unknown", Architecture: "unknown"}, Annotations: map[string]string{attestationRef: "sha256:b"}},
		{Digest: "sha256:y", Platform: &specs.Platform{OS: "unknown", Architecture: "unknown"}, Annotations: map[string]string{attestationRef: "sha256:a"}},
	}
	ds, chosen := selectInstances(entries, []specs.Platform{platforms.MustParse("linux/arm64"), platforms.MustParse("linux/arm/v6")})
	if want := []digest.Digest{"sha256:b", "sha256:x"}; !reflect.DeepEqual(ds, want) {
		t.Errorf("selected %v, want %v (arm64 with its attestation, no arm/v7 for arm/v6)", ds, want)
	}
	if len(chosen) != 1 || platforms.Format(chosen[0]) != "linux/arm64" {
		t.Errorf("chosen platforms %v, want linux/arm64", chosen)
	}
}

func TestInspectTable(t *testing.T) {
	src, sys := fixtureLayout(t)
	in, err := Inspect(context.Background(), src, sys)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := in.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range append([]string{"Name:      oci:", "Digest:    " + in.Digest.String()}, "linux/amd64", "linux/s390x", in.Manifests[1].Digest.String()) {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	if digest.FromBytes(in.Raw) != in.Digest {
		t.Errorf("raw bytes do not hash to the digest")
	}
}
