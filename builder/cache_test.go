package builder

import (
	"testing"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/buildah/define"
)

// TestCacheRepository checks the per-platform cache repositories: one
// per platform, variants apart, arm64's v8 normalised away.
func TestCacheRepository(t *testing.T) {
	for _, tc := range []struct {
		repo string
		p    specs.Platform
		want string
	}{
		{"quay.io/you/cache", specs.Platform{OS: "linux", Architecture: "amd64"}, "quay.io/you/cache-linux-amd64"},
		{"127.0.0.1:5000/cache", specs.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, "127.0.0.1:5000/cache-linux-arm64"},
		{"127.0.0.1:5000/cache", specs.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, "127.0.0.1:5000/cache-linux-arm-v7"},
		{"127.0.0.1:5000/cache", specs.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}, "127.0.0.1:5000/cache-linux-arm-v6"},
		{"you/cache", specs.Platform{OS: "linux", Architecture: "s390x"}, "docker.io/you/cache-linux-s390x"},
	} {
		got, err := CacheRepository(tc.repo, tc.p)
		if err != nil || got.String() != tc.want {
			t.Errorf("CacheRepository(%q, %v) = %v, %v; want %s", tc.repo, tc.p, got, err, tc.want)
		}
	}
}

// TestCacheApply checks the buildah options of one platform.
func TestCacheApply(t *testing.T) {
	c := CacheOptions{From: []string{"r.io/a/c", "r.io/b/c"}, To: []string{"r.io/a/c"}, TTL: time.Hour}
	var opts define.BuildOptions
	if err := c.apply(&opts, specs.Platform{OS: "linux", Architecture: "arm64"}); err != nil {
		t.Fatal(err)
	}
	if len(opts.CacheFrom) != 2 || opts.CacheFrom[0].String() != "r.io/a/c-linux-arm64" || opts.CacheFrom[1].String() != "r.io/b/c-linux-arm64" {
		t.Errorf("CacheFrom = %v", opts.CacheFrom)
	}
	if len(opts.CacheTo) != 1 || opts.CacheTo[0].String() != "r.io/a/c-linux-arm64" || opts.CacheTTL != time.Hour {
		t.Errorf("CacheTo = %v, CacheTTL = %v", opts.CacheTo, opts.CacheTTL)
	}
}

// TestFormatOptions checks the names each package gets for a format.
func TestFormatOptions(t *testing.T) {
	for _, tc := range []struct {
		format, buildah, index string
	}{
		{"", define.OCIv1ImageManifest, "oci"},
		{FormatOCI, define.OCIv1ImageManifest, "oci"},
		{FormatDocker, define.Dockerv2ImageManifest, "v2s2"},
	} {
		o := &Options{Format: tc.format}
		if o.buildahFormat() != tc.buildah || o.manifestFormat() != tc.index {
			t.Errorf("format %q: buildah %q, index %q; want %q, %q", tc.format, o.buildahFormat(), o.manifestFormat(), tc.buildah, tc.index)
		}
	}
}
