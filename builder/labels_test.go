package builder

import (
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestSamePlatform(t *testing.T) {
	p := func(os, arch, variant string) specs.Platform {
		return specs.Platform{OS: os, Architecture: arch, Variant: variant}
	}
	for _, tc := range []struct {
		entry, config specs.Platform
		same          bool
	}{
		{p("linux", "arm64", "v8"), p("linux", "arm64", ""), true},
		{p("linux", "arm64", ""), p("linux", "arm64", "v8"), true},
		{p("linux", "amd64", ""), p("linux", "x86_64", ""), true},
		{p("linux", "arm", "v7"), p("linux", "arm", ""), true},
		{p("linux", "arm64", "v8"), p("linux", "amd64", ""), false},
		{p("linux", "arm", "v7"), p("linux", "arm", "v6"), false},
		{p("linux", "amd64", ""), p("windows", "amd64", ""), false},
		{p("linux", "s390x", ""), p("linux", "", ""), false},
	} {
		if got := samePlatform(tc.entry, tc.config); got != tc.same {
			t.Errorf("samePlatform(%v, %v) = %v, want %v", tc.entry, tc.config, got, tc.same)
		}
	}
}
