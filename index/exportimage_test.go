package index

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestPlatformPath checks how --platform all names each output.
func TestPlatformPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		p    specs.Platform
		want string
	}{
		{"out.tar", specs.Platform{OS: "linux", Architecture: "arm64"}, "out-linux-arm64.tar"},
		{"dir/rootfs.tar", specs.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, "dir/rootfs-linux-arm-v7.tar"},
		{"layout", specs.Platform{OS: "linux", Architecture: "s390x"}, "layout-linux-s390x"},
		{"layout/", specs.Platform{OS: "linux", Architecture: "amd64"}, "layout-linux-amd64"},
	} {
		if got := platformPath(tc.path, tc.p); got != tc.want {
			t.Errorf("platformPath(%q, %v) = %q, want %q", tc.path, tc.p, got, tc.want)
		}
	}
}

// TestExportOptions checks -o parsing and validation.
func TestExportOptions(t *testing.T) {
	arm64 := []specs.Platform{{OS: "linux", Architecture: "arm64"}}
	for _, tc := range []struct {
		output string
		all    bool
		want   string // "" for valid
	}{
		{"type=oci,dest=d", false, ""},
		{"type=docker-archive,dest=f.tar", false, ""},
		{"type=tar,dest=r.tar", true, ""},
		{"type=zip,dest=f", false, "type=zip"},
		{"type=tar", false, "dest=PATH"},
		{"dest=f", false, "type="},
		{"tar:f", false, "invalid -o"},
	} {
		o := ImageExportOptions{All: tc.all}
		if !tc.all {
			o.Platforms = arm64
		}
		err := ParseExportOutput(tc.output, &o)
		if err == nil {
			err = o.Validate()
		}
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("-o %s: %v, want an error naming %q", tc.output, err, tc.want)
		}
	}
	if err := (ImageExportOptions{Type: "tar", Dest: "x"}).Validate(); err == nil || !strings.Contains(err.Error(), "--platform") {
		t.Errorf("no platform: %v, want an error naming --platform", err)
	}
}
