package builder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
)

func TestCollectNeeds(t *testing.T) {
	cf := `ARG BASE=reg/busybox:1
FROM --platform=$BUILDPLATFORM ${BASE} AS tools
RUN make
FROM $BASE AS final
COPY --from=tools /x /x
RUN true
FROM scratch AS export
COPY --from=final /x /x
`
	path := filepath.Join(t.TempDir(), "Containerfile")
	if err := os.WriteFile(path, []byte(cf), 0o644); err != nil {
		t.Fatal(err)
	}
	parsed, err := parseContainerfile(path)
	if err != nil {
		t.Fatal(err)
	}
	arm := specs.Platform{OS: "linux", Architecture: "arm64"}
	s390 := specs.Platform{OS: "linux", Architecture: "s390x"}
	o := &Options{Platforms: []specs.Platform{arm, s390}, BuildArgs: map[string]string{"BASE": "reg/other:2"}}
	needs, emulated, err := collectNeeds(parsed, o)
	if err != nil {
		t.Fatal(err)
	}
	host := emulation.FormatPlatform(emulation.HostPlatform())
	want := []string{"reg/other:2|" + host, "reg/other:2|linux/arm64", "reg/other:2|linux/s390x"}
	var got []string
	for _, n := range needs {
		got = append(got, n.Image+"|"+emulation.FormatPlatform(n.Platform))
	}
	if len(got) != len(want) {
		t.Fatalf("needs = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("need %d = %s, want %s", i, got[i], want[i])
		}
	}
	if len(emulated) != 2 || emulation.FormatPlatform(emulated[0]) != "linux/arm64" || emulation.FormatPlatform(emulated[1]) != "linux/s390x" {
		t.Errorf("emulated = %v, want arm64 and s390x only (the BUILDPLATFORM stage runs natively)", emulated)
	}
}

func TestNoRunNeedsNoEmulation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Containerfile")
	if err := os.WriteFile(path, []byte("FROM busybox\nCOPY a /a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	parsed, err := parseContainerfile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, emulated, err := collectNeeds(parsed, &Options{Platforms: []specs.Platform{{OS: "linux", Architecture: "arm64"}}})
	if err != nil || len(emulated) != 0 {
		t.Errorf("emulated = %v, %v; want none for a Containerfile without RUN", emulated, err)
	}
}

func TestExpandShellForms(t *testing.T) {
	cf := &containerfile{GlobalArgs: []globalArg{{"REG", "quay.io"}, {"TAG", ""}, {"BASE", "${REG}/busybox"}}}
	arm := specs.Platform{OS: "linux", Architecture: "arm64"}
	for _, tc := range []struct {
		in   string
		user map[string]string
		want string
	}{
		{"${BASE}:${TAG:-1.36}", nil, "quay.io/busybox:1.36"},
		{"$BASE:$TAG", map[string]string{"TAG": "2"}, "quay.io/busybox:2"},
		{"${BASE}", map[string]string{"REG": "r.example"}, "r.example/busybox"},
		{"${BUILDPLATFORM:-linux/amd64}", nil, emulation.FormatPlatform(emulation.HostPlatform())},
		{"$TARGETPLATFORM", nil, "linux/arm64"},
		{"${UNDECLARED:-x}", map[string]string{"UNDECLARED": "y"}, "x"},
	} {
		if got := cf.expand(tc.in, tc.user, arm); got != tc.want {
			t.Errorf("expand(%q, %v) = %q, want %q", tc.in, tc.user, got, tc.want)
		}
	}
}

func TestReachableStagesOnly(t *testing.T) {
	cf := `FROM reg/a:1 AS unused
RUN true
FROM reg/b:1 AS deps
FROM reg/c:1 AS app
COPY --from=deps /x /x
COPY --from=reg/tool:1 /bin/tool /bin/tool
RUN --mount=type=bind,from=0,target=/m true
FROM app AS final
FROM reg/d:1 AS later
`
	path := filepath.Join(t.TempDir(), "Containerfile")
	if err := os.WriteFile(path, []byte(cf), 0o644); err != nil {
		t.Fatal(err)
	}
	parsed, err := parseContainerfile(path)
	if err != nil {
		t.Fatal(err)
	}
	arm := specs.Platform{OS: "linux", Architecture: "arm64"}
	for _, tc := range []struct{ target, want string }{
		{"final", "reg/a:1 reg/b:1 reg/c:1 reg/tool:1"},
		{"", "reg/d:1"},
		{"deps", "reg/b:1"},
	} {
		needs, _, err := collectNeeds(parsed, &Options{Target: tc.target, Platforms: []specs.Platform{arm}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range needs {
			got = append(got, n.Image)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("target %q: bases %v, want %s", tc.target, got, tc.want)
		}
	}
	if _, _, err := collectNeeds(parsed, &Options{Target: "nope", Platforms: []specs.Platform{arm}}); err == nil || !strings.Contains(err.Error(), "stages: unused, deps, app, final, later") {
		t.Errorf("unknown target: %v", err)
	}
}
