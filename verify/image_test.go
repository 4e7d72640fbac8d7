package verify

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/verify/internal/layertest"
	"go.podman.io/image/v5/transports/alltransports"
)

// fixturePlatforms is how many platforms the fixture's latest index has.
const fixturePlatforms = 8

// verifyRef runs Image on a reference string.
func verifyRef(t *testing.T, ref string, o Options) *Report {
	t.Helper()
	r, err := alltransports.ParseImageName(ref)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Image(context.Background(), r, nil, o)
	if err != nil {
		t.Fatalf("Image(%s): %v", ref, err)
	}
	return rep
}

// TestImageFixture verifies every platform of the fixture index, from
// POLYARCH_FIXTURES (set by make unit).
func TestImageFixture(t *testing.T) {
	dir := os.Getenv("POLYARCH_FIXTURES")
	if dir == "" {
		t.Fatal("POLYARCH_FIXTURES is not set: run `make unit`")
	}
	rep := verifyRef(t, "oci:"+filepath.Join(dir, "busybox-oci")+":latest", Options{})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rep.Images) != fixturePlatforms {
		t.Errorf("%d images verified, want %d", len(rep.Images), fixturePlatforms)
	}
	for _, img := range rep.Images {
		if img.ELFFiles != 1 || img.Platform != img.Config {
			t.Errorf("%s: %d ELF files, config %s; want 1 busybox and the same platform", img.Platform, img.ELFFiles, img.Config)
		}
	}
	att := verifyRef(t, "oci:"+filepath.Join(dir, "busybox-oci")+":with-attestation", Options{})
	if !att.OK() || len(att.Entries) != 1 || att.Entries[0].Kind != KindAttestation {
		t.Errorf("with-attestation: OK %v, entries %+v; want OK and one attestation entry", att.OK(), att.Entries)
	}
}

// TestImageProblems verifies hand-made layouts, each wrong in one way.
func TestImageProblems(t *testing.T) {
	amd64, arm64 := string(layertest.Busybox(t, "amd64")), string(layertest.Busybox(t, "arm64"))
	pAMD64, pARM64 := specs.Platform{OS: "linux", Architecture: "amd64"}, specs.Platform{OS: "linux", Architecture: "arm64"}
	l := newLayout(t)
	good := l.image(pAMD64, &pAMD64, []file{{Name: "bin/busybox", Data: amd64}})
	mislabelled := l.image(pAMD64, &pAMD64, []file{{Name: "bin/busybox", Data: arm64}})
	wrongEntry := l.image(pAMD64, &pARM64, []file{{Name: "bin/busybox", Data: amd64}})
	noPlatform := l.image(pAMD64, nil, []file{{Name: "bin/busybox", Data: amd64}})
	unknown := l.image(specs.Platform{}, &specs.Platform{OS: "unknown", Architecture: "unknown"})
	dir := l.tag(map[string]specs.Descriptor{
		"good": l.index(good), "mislabelled": l.index(mislabelled), "wrong-entry": l.index(wrongEntry),
		"no-platform": l.index(good, noPlatform), "unknown": l.index(good, unknown),
		"single": l.image(pARM64, nil, []file{{Name: "bin/busybox", Data: amd64}}),
	})
	tests := []struct {
		tag  string
		want string // in Err(); "" for OK
	}{
		{"good", ""},
		{"mislabelled", "[linux/amd64] /bin/busybox: EM_AARCH64 64-bit LSB (linux/arm64) is not EM_X86_64 64-bit LSB (linux/amd64)"},
		{"wrong-entry", "[linux/arm64] index entry says linux/arm64, config says linux/amd64"},
		{"no-platform", "entry 1 (" + noPlatform.Digest.String() + "): entry has no platform"},
		{"unknown", `entry platform "unknown/unknown" is no platform`},
		{"single", "[linux/arm64] /bin/busybox: EM_X86_64 64-bit LSB (linux/amd64) is not EM_AARCH64"},
	}
	for _, tc := range tests {
		t.Run(tc.tag, func(t *testing.T) {
			err := verifyRef(t, "oci:"+dir+":"+tc.tag, Options{}).Err()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected mismatch: %v", err)
			case tc.want != "" && (!errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want ErrMismatch containing %q", err, tc.want)
			}
		})
	}
}
