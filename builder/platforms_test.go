package builder

import (
	"strings"
	"testing"
)

func TestParsePlatform(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "linux/amd64", want: "linux/amd64"},
		{in: "amd64", want: "linux/amd64"},
		{in: "x86_64", want: "linux/amd64"},
		{in: "arm64", want: "linux/arm64"},
		{in: "aarch64", want: "linux/arm64"},
		{in: "linux/arm64/v8", want: "linux/arm64"},
		{in: "linux/arm", want: "linux/arm/v7"},
		{in: "armhf", want: "linux/arm/v7"},
		{in: "linux/arm/v6", want: "linux/arm/v6"},
		{in: "linux/arm/5", want: "linux/arm/v5"},
		{in: "i386", want: "linux/386"},
		{in: " linux/s390x ", want: "linux/s390x"},
		{in: "LINUX/PPC64LE", want: "linux/ppc64le"},
		{in: "linux/riscv64", want: "linux/riscv64"},
		{in: "", err: "empty platform"},
		{in: "*", err: "malformed"},
		{in: "linux/", err: "malformed"},
		{in: "/amd64", err: "malformed"},
		{in: "linux/amd64/v1/x", err: "malformed"},
		{in: "windows/amd64", err: "linux images only"},
		{in: "darwin/arm64", err: "linux images only"},
		{in: "linux/sparc9", err: "unknown architecture"},
		{in: "linux/amd64 x", err: "malformed"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p, err := ParsePlatform(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParsePlatform(%q) = %v, %v; want error containing %q", tc.in, p, err, tc.err)
				}
				if !strings.Contains(err.Error(), "valid forms") {
					t.Errorf("error %q does not list the valid forms", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePlatform(%q): %v", tc.in, err)
			}
			if got := FormatPlatform(p); got != tc.want {
				t.Errorf("ParsePlatform(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestParsePlatformsOrderAndDuplicates(t *testing.T) {
	ps, err := ParsePlatforms([]string{"linux/s390x,arm64", "linux/amd64", "aarch64", "linux/arm64/v8", "s390x"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, FormatPlatform(p))
	}
	if want := "linux/s390x linux/arm64 linux/amd64"; strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	host, err := ParsePlatforms(nil)
	if err != nil || len(host) != 1 || FormatPlatform(host[0]) != FormatPlatform(HostPlatform()) {
		t.Errorf("empty input: got %v, %v; want the host platform", host, err)
	}
}

// FuzzParsePlatform checks that parsing never panics and that every
// accepted platform is linux, normalised and stable under reparsing.
func FuzzParsePlatform(f *testing.F) {
	for _, s := range []string{"linux/amd64", "arm64", "linux/arm/v7", "*", "linux/", "a/b/c/d", "armhf", "LINUX/ARM64/V8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePlatform(s)
		if err != nil {
			return
		}
		if p.OS != "linux" {
			t.Fatalf("%q parsed to non-linux %v", s, p)
		}
		again, err := ParsePlatform(FormatPlatform(p))
		if err != nil || FormatPlatform(again) != FormatPlatform(p) {
			t.Fatalf("%q -> %s -> %v, %v: not stable", s, FormatPlatform(p), again, err)
		}
	})
}
