package builder

import (
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
)

// foreign returns a platform other than the host's that the emulation
// table serves.
func foreign() specs.Platform {
	if emulation.HostPlatform().Architecture == "s390x" {
		return specs.Platform{OS: "linux", Architecture: "arm64"}
	}
	return specs.Platform{OS: "linux", Architecture: "s390x"}
}

// TestPlanNeedsEmulation plans with the machine's qemu-user-static.
func TestPlanNeedsEmulation(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		platforms     []specs.Platform
		want          bool
	}{
		{"foreign RUN", "FROM a\nRUN true\n", []specs.Platform{foreign()}, true},
		{"foreign without RUN", "FROM a\nCOPY x /x\n", []specs.Platform{foreign()}, false},
		{"host RUN", "FROM a\nRUN true\n", []specs.Platform{emulation.HostPlatform()}, false},
		{"build-platform stage", "FROM --platform=$BUILDPLATFORM a\nRUN true\n", []specs.Platform{foreign()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeContainerfile(t, tc.content)
			o := Options{ContextDir: filepath.Dir(path), Platforms: tc.platforms}
			p, err := NewPlan(&o)
			if err != nil {
				t.Fatal(err)
			}
			if p.NeedsEmulation() != tc.want || needsEmulation(Options{Plan: p}) != tc.want {
				t.Errorf("NeedsEmulation = %v, want %v", p.NeedsEmulation(), tc.want)
			}
			if o.Containerfile != path {
				t.Errorf("NewPlan did not validate the options: Containerfile %q", o.Containerfile)
			}
		})
	}
}

func TestLayoutBases(t *testing.T) {
	arm := specs.Platform{OS: "linux", Architecture: "arm64"}
	for _, tc := range []struct {
		name, content string
		pull          PullPolicy
		want          []layoutBase
	}{
		{"archive via ARG", "ARG BASE=oci-archive:b.tar\nFROM $BASE\nRUN true\n", "",
			[]layoutBase{{Written: "$BASE", Image: "oci-archive:b.tar", Platform: arm}}},
		{"layout and registry", "FROM reg/a:1 AS a\nFROM oci:dir:v1\nCOPY --from=a /x /x\n", "",
			[]layoutBase{{Written: "reg/a:1", Image: "reg/a:1", Platform: arm}, {Written: "oci:dir:v1", Image: "oci:dir:v1", Platform: arm}}},
		{"registry with --pull=never", "FROM reg/a:1 AS a\nFROM oci:dir:v1\nCOPY --from=a /x /x\n", PullNever,
			[]layoutBase{{Written: "oci:dir:v1", Image: "oci:dir:v1", Platform: arm}}},
		{"stage, scratch and image ID", "FROM scratch AS s\nFROM s\nFROM 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", "", nil},
		{"same FROM, two platforms", "FROM --platform=$BUILDPLATFORM oci:dir AS b\nFROM oci:dir\nCOPY --from=b /x /x\n", "", nil},
		{"unused stage", "FROM oci:dir AS unused\nFROM reg/a:1\n", "",
			[]layoutBase{{Written: "reg/a:1", Image: "reg/a:1", Platform: arm}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeContainerfile(t, tc.content)
			o := Options{ContextDir: filepath.Dir(path), Platforms: []specs.Platform{arm}, BuildArgs: map[string]string{}, Pull: tc.pull}
			cf, err := parseContainerfile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := (&Plan{file: cf}).layoutBases(&o, arm)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("layoutBases = %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i].Written != tc.want[i].Written || got[i].Image != tc.want[i].Image || emulation.FormatPlatform(got[i].Platform) != emulation.FormatPlatform(tc.want[i].Platform) {
					t.Errorf("layoutBases[%d] = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}
