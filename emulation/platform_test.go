package emulation

import (
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestParsePlatform covers the accepted spellings and every error.
func TestParsePlatform(t *testing.T) {
	for _, tt := range []struct {
		in, want, err string
	}{
		{in: "linux/amd64", want: "linux/amd64"},
		{in: "amd64", want: "linux/amd64"},
		{in: "x86_64", want: "linux/amd64"},
		{in: "linux/x86-64", want: "linux/amd64"},
		{in: "linux/amd64/v1", want: "linux/amd64"},
		{in: "arm64", want: "linux/arm64"},
		{in: "aarch64", want: "linux/arm64"},
		{in: "linux/arm64/v8", want: "linux/arm64"},
		{in: "LINUX/ARM64/V8", want: "linux/arm64"},
		{in: "linux/arm", want: "linux/arm/v7"},
		{in: "armhf", want: "linux/arm/v7"},
		{in: "armv7l", want: "linux/arm/v7"},
		{in: "linux/arm/7", want: "linux/arm/v7"},
		{in: "linux/arm/v6", want: "linux/arm/v6"},
		{in: "armv6l", want: "linux/arm/v6"},
		{in: "armel", want: "linux/arm/v6"},
		{in: "linux/arm/5", want: "linux/arm/v5"},
		{in: "armv5tel", want: "linux/arm/v5"},
		{in: "i386", want: "linux/386"},
		{in: "i686", want: "linux/386"},
		{in: "linux/386", want: "linux/386"},
		{in: " linux/s390x ", want: "linux/s390x"},
		{in: "LINUX/PPC64LE", want: "linux/ppc64le"},
		{in: "ppc64el", want: "linux/ppc64le"},
		{in: "linux/ppc64el", want: "linux/ppc64le"},
		{in: "riscv64", want: "linux/riscv64"},
		{in: "mips64el", want: "linux/mips64le"},
		{in: "linux/mips64", want: "linux/mips64"},
		{in: "loongarch64", want: "linux/loong64"},
		{in: "", err: "empty platform: use OS/ARCH[/VARIANT]"},
		{in: "  ", err: "empty platform"},
		{in: "*", err: `malformed platform "*": use OS/ARCH[/VARIANT]`},
		{in: "linux/", err: `malformed platform "linux/"`},
		{in: "/amd64", err: `malformed platform "/amd64"`},
		{in: "linux//", err: "malformed platform"},
		{in: "linux/amd64/v1/x", err: "malformed platform"},
		{in: "linux/amd64 x", err: "malformed platform"},
		{in: "linux(10.0)/amd64", err: "malformed platform"},
		{in: "windows/amd64", err: `unsupported platform "windows/amd64": polyarch builds linux images only; supported platforms are linux/amd64, linux/386`},
		{in: "darwin/arm64", err: "linux images only"},
		{in: "linux/sparc64", err: `unsupported platform "linux/sparc64" (linux/sparc64): polyarch has no emulator for it; supported platforms are linux/amd64`},
		{in: "linux/mips", err: "has no emulator"},
		{in: "linux/ppc64", err: "has no emulator"},
		{in: "linux/amd64/v3", err: `unsupported platform "linux/amd64/v3" (linux/amd64/v3)`},
		{in: "linux/arm/v8", err: "has no emulator"},
		{in: "linux/arm64/v9", err: "has no emulator"},
		{in: "all", err: `unsupported platform "all"`},
	} {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePlatform(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParsePlatform(%q) = %v, %v; want an error containing %q", tt.in, p, err, tt.err)
				}
				return
			}
			if err != nil || FormatPlatform(p) != tt.want {
				t.Fatalf("ParsePlatform(%q) = %v, %v; want %s", tt.in, FormatPlatform(p), err, tt.want)
			}
		})
	}
}

// TestPlatformsMatchTable ties the accepted platforms to the emulator
// table: every row parses to itself and round-trips through
// FormatPlatform, every accepted platform has a row, and the host's
// platform is accepted.
func TestPlatformsMatchTable(t *testing.T) {
	for _, e := range table {
		s := FormatPlatform(e.Platform)
		p, err := ParsePlatform(s)
		if err != nil || FormatPlatform(p) != s || !inTable(p) {
			t.Errorf("row %s: ParsePlatform = %+v, %v; want the row itself", s, p, err)
		}
		if got, ok := Lookup(p); !ok || FormatPlatform(got.Platform) != s {
			t.Errorf("row %s: Lookup = %+v, %v", s, got, ok)
		}
	}
	for _, arch := range []string{"386", "amd64", "arm", "arm64", "ppc64le", "s390x", "riscv64", "mips64le", "mips64", "loong64",
		"mips", "mipsle", "ppc64", "sparc64", "wasm"} {
		for _, variant := range []string{"", "v5", "v6", "v7", "v8", "v9", "v2", "v3"} {
			p, err := ParsePlatform(FormatPlatform(plat("linux/" + arch + "/" + variant)))
			if err == nil && !inTable(p) {
				t.Errorf("linux/%s/%s is accepted as %s, which has no table row", arch, variant, FormatPlatform(p))
			}
		}
	}
	if _, err := ParsePlatform(FormatPlatform(HostPlatform())); err != nil {
		t.Errorf("the host's platform (%s) is not accepted: %v", runtime.GOARCH, err)
	}
}

func TestParsePlatforms(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		want    []string
		wantErr string
	}{
		{nil, nil, ""},
		{[]string{"aarch64,linux/s390x", "arm64"}, []string{"linux/arm64", "linux/s390x"}, ""},
		{[]string{"linux/s390x,arm64", "linux/amd64", "aarch64", "linux/arm64/v8", "s390x"}, []string{"linux/s390x", "linux/arm64", "linux/amd64"}, ""},
		{[]string{"linux/arm", "armel", "linux/arm64/v8", "armhf"}, []string{"linux/arm/v7", "linux/arm/v6", "linux/arm64"}, ""},
		{[]string{"ppc64el", "linux/ppc64le"}, []string{"linux/ppc64le"}, ""},
		{[]string{"linux/amd64,"}, nil, "empty platform"},
		{[]string{"linux/amd64", "windows/amd64"}, nil, "linux images only"},
		{[]string{"linux/sparc64"}, nil, "supported platforms are linux/amd64"},
	} {
		ps, err := ParsePlatforms(tt.args)
		var got []string
		for _, p := range ps {
			got = append(got, FormatPlatform(p))
		}
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePlatforms(%q) error = %v, want one containing %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParsePlatforms(%q) = %v, %v; want %v", tt.args, got, err, tt.want)
		}
	}
}

func TestFormatPlatform(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"linux/arm/v7", "linux/arm/v7"},
		{"linux/amd64", "linux/amd64"},
		{"", "unknown"},
		{"unknown/unknown", "unknown/unknown"},
	} {
		if got := FormatPlatform(plat(tt.in)); got != tt.want {
			t.Errorf("FormatPlatform(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzParsePlatform checks that parsing never panics and that every
// accepted platform is a table row, stable under formatting and reparsing.
func FuzzParsePlatform(f *testing.F) {
	for _, s := range []string{"linux/amd64", "arm64", "linux/arm/v7", "*", "linux/", "a/b/c/d", "armhf", "LINUX/ARM64/V8", "ppc64el"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePlatform(s)
		if err != nil {
			return
		}
		if !inTable(p) {
			t.Fatalf("%q parsed to %v, not a table row", s, p)
		}
		again, err := ParsePlatform(FormatPlatform(p))
		if err != nil || FormatPlatform(again) != FormatPlatform(p) {
			t.Fatalf("%q -> %s -> %v, %v: not stable", s, FormatPlatform(p), again, err)
		}
	})
}
