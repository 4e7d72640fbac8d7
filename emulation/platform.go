package emulation

import (
	"fmt"
	"path"
	"runtime"
	"strings"

	"github.com/containerd/platforms"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// This file is polyarch's one platform vocabulary: builder, index, the CLI
// and this package parse, normalise and format platforms only through it,
// and a platform is accepted only if the emulator table has its row, so
// every platform a build accepts is one polyarch can emulate.

// archAliases maps Debian (dpkg) and kernel (uname -m) architecture names
// that containerd/platforms does not know to OCI architectures; a variant
// here applies when the platform names none.
var archAliases = map[string]specs.Platform{
	"ppc64el":     {Architecture: "ppc64le"},
	"mips64el":    {Architecture: "mips64le"},
	"loongarch64": {Architecture: "loong64"},
	"i486":        {Architecture: "386"},
	"i586":        {Architecture: "386"},
	"i686":        {Architecture: "386"},
	"armv5l":      {Architecture: "arm", Variant: "v5"},
	"armv5tel":    {Architecture: "arm", Variant: "v5"},
	"armv6l":      {Architecture: "arm", Variant: "v6"},
	"armv7l":      {Architecture: "arm", Variant: "v7"},
}

// NormalizePlatform returns p in OCI spelling: lower case, Debian and
// kernel architecture names mapped (ppc64el, mips64el, loongarch64, i686,
// armv7l...), then normalised as containerd/platforms does (x86_64 and
// i386 renamed, arm64 without the v8 variant, arm with a variant, armhf
// as arm/v7 and armel as arm/v6).
func NormalizePlatform(p specs.Platform) specs.Platform {
	p.OS, p.Architecture, p.Variant = strings.ToLower(p.OS), strings.ToLower(p.Architecture), strings.ToLower(p.Variant)
	if a, ok := archAliases[p.Architecture]; ok {
		p.Architecture = a.Architecture
		if p.Variant == "" {
			p.Variant = a.Variant
		}
	}
	return platforms.Normalize(p)
}

// FormatPlatform formats p as os/arch[/variant], "unknown" without an OS.
// It does not normalise p.
func FormatPlatform(p specs.Platform) string {
	if p.OS == "" {
		return "unknown"
	}
	return path.Join(p.OS, p.Architecture, p.Variant)
}

// HostPlatform returns the normalised platform of the running machine.
func HostPlatform() specs.Platform {
	p := NormalizePlatform(specs.Platform{OS: "linux", Architecture: runtime.GOARCH})
	if p.Architecture == "arm" {
		p.Variant = "v7"
	}
	return p
}

// platformForms is the advice shown with every parse error.
const platformForms = "use OS/ARCH[/VARIANT] such as linux/arm64 or linux/arm/v7, or an architecture such as arm64"

// ParsePlatform parses one platform: "os/arch[/variant]" or a bare
// architecture (OS linux), case-insensitive, with Debian and kernel names
// accepted (aarch64, x86_64, i386, armhf, ppc64el, armv7l...). The result
// is normalised (see NormalizePlatform) and must be a row of the emulator
// table; errors quote the input, say what is wrong and list the
// supported platforms.
func ParsePlatform(s string) (specs.Platform, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return specs.Platform{}, fmt.Errorf("empty platform: %s", platformForms)
	}
	parts := strings.Split(in, "/")
	if len(parts) > 3 || strings.IndexFunc(in, badPlatformRune) >= 0 || hasEmpty(parts) {
		return specs.Platform{}, fmt.Errorf("malformed platform %q: %s", s, platformForms)
	}
	p := specs.Platform{OS: "linux", Architecture: parts[0]}
	if len(parts) > 1 {
		p = specs.Platform{OS: parts[0], Architecture: parts[1]}
	}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	p = NormalizePlatform(p)
	if p.OS != "linux" {
		return specs.Platform{}, fmt.Errorf("unsupported platform %q: polyarch builds linux images only; supported platforms are %s",
			s, supported())
	}
	if !inTable(p) {
		return specs.Platform{}, fmt.Errorf("unsupported platform %q (%s): polyarch has no emulator for it; supported platforms are %s",
			s, FormatPlatform(p), supported())
	}
	return p, nil
}

// badPlatformRune reports whether r cannot appear in a platform string.
func badPlatformRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/_.-", r))
}

func hasEmpty(parts []string) bool {
	for _, p := range parts {
		if p == "" {
			return true
		}
	}
	return false
}

// inTable reports whether p is exactly a row of the table.
func inTable(p specs.Platform) bool {
	for _, e := range table {
		if e.Platform.OS == p.OS && e.Platform.Architecture == p.Architecture && e.Platform.Variant == p.Variant {
			return true
		}
	}
	return false
}

// ParsePlatforms parses each value, itself a comma list, with
// ParsePlatform, and returns the platforms in the order given without
// duplicates (linux/arm64 and aarch64 are one). No values give none.
func ParsePlatforms(values []string) ([]specs.Platform, error) {
	var out []specs.Platform
	seen := map[string]bool{}
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			p, err := ParsePlatform(item)
			if err != nil {
				return nil, err
			}
			if key := FormatPlatform(p); !seen[key] {
				seen[key] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// TablePlatforms returns the platforms of the emulator table, in table
// order: every platform ParsePlatform accepts, once.
func TablePlatforms() []specs.Platform {
	out := make([]specs.Platform, len(table))
	for i, e := range table {
		out[i] = e.Platform
	}
	return out
}

// supported lists the table's platforms for error messages.
func supported() string {
	names := make([]string, 0, len(table))
	for _, e := range table {
		names = append(names, FormatPlatform(e.Platform))
	}
	return strings.Join(names, ", ")
}
