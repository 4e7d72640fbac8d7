package builder

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
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
	host := FormatPlatform(HostPlatform())
	want := []string{"reg/other:2|" + host, "reg/other:2|linux/arm64", "reg/other:2|linux/s390x"}
	var got []string
	for _, n := range needs {
		got = append(got, n.Image+"|"+FormatPlatform(n.Platform))
	}
	if len(got) != len(want) {
		t.Fatalf("needs = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("need %d = %s, want %s", i, got[i], want[i])
		}
	}
	if len(emulated) != 2 || FormatPlatform(emulated[0]) != "linux/arm64" || FormatPlatform(emulated[1]) != "linux/s390x" {
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
