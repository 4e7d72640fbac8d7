package builder

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/containerd/platforms"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// validPlatformForms is shown to users whose --platform value was rejected.
const validPlatformForms = "valid forms: linux/amd64, linux/arm64, linux/arm/v7, linux/s390x, linux/ppc64le, linux/riscv64, linux/386, or a bare architecture such as arm64"

// knownArchitectures lists the architectures polyarch accepts, after
// normalisation by containerd/platforms.
var knownArchitectures = map[string]bool{
	"386": true, "amd64": true, "arm": true, "arm64": true, "loong64": true,
	"mips": true, "mipsle": true, "mips64": true, "mips64le": true,
	"ppc64": true, "ppc64le": true, "riscv64": true, "s390x": true,
}

// ParsePlatform parses and normalises one platform string as
// containerd/platforms does ("aarch64" is linux/arm64, "armhf" and
// "linux/arm" are linux/arm/v7, "linux/arm64/v8" is linux/arm64). Only
// linux platforms of a known architecture are accepted.
func ParsePlatform(s string) (specs.Platform, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return specs.Platform{}, fmt.Errorf("empty platform: %s", validPlatformForms)
	}
	if strings.Count(s, "/") > 2 || strings.HasSuffix(s, "/") || strings.HasPrefix(s, "/") || strings.Contains(s, "*") {
		return specs.Platform{}, fmt.Errorf("malformed platform %q: %s", s, validPlatformForms)
	}
	p, err := platforms.Parse(s)
	if err != nil {
		return specs.Platform{}, fmt.Errorf("malformed platform %q: %s", s, validPlatformForms)
	}
	p = platforms.Normalize(p)
	if p.OS != "linux" {
		return specs.Platform{}, fmt.Errorf("unsupported platform %q: polyarch builds linux images only (%s)", s, validPlatformForms)
	}
	if !knownArchitectures[p.Architecture] {
		return specs.Platform{}, fmt.Errorf("unknown architecture in platform %q: %s", s, validPlatformForms)
	}
	return p, nil
}

// ParsePlatforms parses every value, each of which may itself be a
// comma-separated list, and returns the platforms in the order given with
// duplicates removed. An empty input yields the host's platform.
func ParsePlatforms(values []string) ([]specs.Platform, error) {
	var out []specs.Platform
	seen := map[string]bool{}
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			p, err := ParsePlatform(item)
			if err != nil {
				return nil, err
			}
			if key := platforms.Format(p); !seen[key] {
				seen[key] = true
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		out = append(out, HostPlatform())
	}
	return out, nil
}

// HostPlatform returns the normalised platform of the running machine.
func HostPlatform() specs.Platform {
	p := platforms.Normalize(specs.Platform{OS: "linux", Architecture: runtime.GOARCH})
	if p.Architecture == "arm" {
		p.Variant = "v7"
	}
	return p
}

// FormatPlatform formats p as os/arch[/variant].
func FormatPlatform(p specs.Platform) string {
	return platforms.Format(p)
}
