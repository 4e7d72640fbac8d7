package emulation

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// plat splits "os/arch[/variant]" without normalising it.
func plat(s string) specs.Platform {
	f := append(strings.Split(s, "/"), "", "")
	return specs.Platform{OS: f[0], Architecture: f[1], Variant: f[2]}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		in       string
		qemu     string // "" means not found
		wantPlat string
	}{
		{"linux/arm64", "aarch64", "linux/arm64"},
		{"linux/arm64/v8", "aarch64", "linux/arm64"},
		{"linux/aarch64", "aarch64", "linux/arm64"},
		{"linux/arm64/v9", "aarch64", "linux/arm64/v9"},
		{"linux/arm", "arm", "linux/arm/v7"},
		{"linux/arm/v7", "arm", "linux/arm/v7"},
		{"linux/arm/7", "arm", "linux/arm/v7"},
		{"linux/arm/v6", "arm", "linux/arm/v6"},
		{"linux/arm/v5", "arm", "linux/arm/v5"},
		{"linux/arm/v8", "arm", "linux/arm/v8"},
		{"linux/armhf", "arm", "linux/arm/v7"},
		{"linux/armel", "arm", "linux/arm/v6"},
		{"linux/386", "i386", "linux/386"},
		{"linux/i386", "i386", "linux/386"},
		{"linux/amd64", "x86_64", "linux/amd64"},
		{"linux/x86_64", "x86_64", "linux/amd64"},
		{"linux/amd64/v3", "x86_64", "linux/amd64/v3"},
		{"Linux/AMD64", "x86_64", "linux/amd64"},
		{"linux/ppc64le", "ppc64le", "linux/ppc64le"},
		{"linux/ppc64el", "ppc64le", "linux/ppc64le"},
		{"linux/s390x", "s390x", "linux/s390x"},
		{"linux/riscv64", "riscv64", "linux/riscv64"},
		{"linux/mips64le", "mips64el", "linux/mips64le"},
		{"linux/mips64el", "mips64el", "linux/mips64le"},
		{"linux/mips64", "mips64", "linux/mips64"},
		{"linux/loong64", "loongarch64", "linux/loong64"},
		{"linux/loongarch64", "loongarch64", "linux/loong64"},
		{"linux/ppc64", "", ""},
		{"linux/sparc64", "", ""},
		{"windows/arm64", "", ""},
		{"darwin/amd64", "", ""},
	}
	for _, tt := range tests {
		e, ok := Lookup(plat(tt.in))
		if tt.qemu == "" {
			if ok {
				t.Errorf("Lookup(%s) = %+v, want not found", tt.in, e)
			}
			continue
		}
		if !ok || e.QEMU != tt.qemu || FormatPlatform(e.Platform) != tt.wantPlat {
			t.Errorf("Lookup(%s) = %s %q, %v; want %s %q", tt.in, FormatPlatform(e.Platform), e.QEMU, ok, tt.wantPlat, tt.qemu)
		}
	}
}

func TestTable(t *testing.T) {
	want := []string{"linux/arm64", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5", "linux/386", "linux/amd64",
		"linux/ppc64le", "linux/s390x", "linux/riscv64", "linux/mips64le", "linux/mips64", "linux/loong64"}
	rows := map[string]Emulator{}
	for _, e := range Table() {
		p := FormatPlatform(e.Platform)
		if _, dup := rows[p]; dup {
			t.Errorf("Table has %s twice", p)
		}
		rows[p] = e
		if n := NormalizePlatform(e.Platform); FormatPlatform(n) != p {
			t.Errorf("Table row %s is not normalised (normalised: %s)", p, FormatPlatform(n))
		}
		magic, err1 := unescapeBytes(e.Magic)
		mask, err2 := unescapeBytes(e.Mask)
		if err1 != nil || err2 != nil || len(magic) != len(mask) || len(magic) < 20 {
			t.Errorf("Table row %s: magic/mask do not decode to equal lengths >= 20: %v %v", p, err1, err2)
		}
		if _, err := registerString(Handler{Name: HandlerName(e), Interpreter: "/x", Magic: e.Magic, Mask: e.Mask}); err != nil {
			t.Errorf("Table row %s: %v", p, err)
		}
	}
	for _, p := range want {
		if _, ok := rows[p]; !ok {
			t.Errorf("Table lacks %s", p)
		}
	}
	if a, b := rows["linux/arm/v7"], rows["linux/arm/v5"]; HandlerName(a) != "qemu-arm" || HandlerName(b) != "qemu-arm" {
		t.Errorf("arm handlers: got %s and %s, want qemu-arm", HandlerName(a), HandlerName(b))
	}
	if got := HandlerName(rows["linux/arm64"]); got != "qemu-aarch64" {
		t.Errorf("HandlerName(arm64) = %s, want qemu-aarch64", got)
	}
}

// TestTableMatchesDebian checks each row against Debian's generated
// /usr/lib/binfmt.d/qemu-<target>.conf where present: same name, and the
// same bytes selected once both masks are applied.
func TestTableMatchesDebian(t *testing.T) {
	found := 0
	for _, e := range Table() {
		b, err := os.ReadFile(filepath.Join("/usr/lib/binfmt.d", HandlerName(e)+".conf"))
		if err != nil {
			continue // Debian omits the host's own family
		}
		found++
		f := strings.Split(strings.TrimSpace(string(b)), ":")
		if len(f) < 7 || f[1] != HandlerName(e) {
			t.Errorf("%s: unexpected Debian line %q", HandlerName(e), b)
			continue
		}
		dmagic, _ := unescapeBytes(f[4])
		dmask, _ := unescapeBytes(f[5])
		magic, _ := unescapeBytes(e.Magic)
		mask, _ := unescapeBytes(e.Mask)
		both := andBytes(dmask, mask)
		if !bytes.Equal(andBytes(dmagic, both), andBytes(magic, both)) {
			t.Errorf("%s: magic differs from Debian's under both masks", HandlerName(e))
		}
	}
	if found == 0 {
		t.Skip("no /usr/lib/binfmt.d/qemu-*.conf (package qemu-user-static not installed)")
	}
}

// matches reports whether data matches e's magic under its mask.
func matches(t *testing.T, e Emulator, data []byte) bool {
	t.Helper()
	magic, err1 := unescapeBytes(e.Magic)
	mask, err2 := unescapeBytes(e.Mask)
	if err1 != nil || err2 != nil {
		t.Fatalf("decoding %s magic/mask: %v %v", HandlerName(e), err1, err2)
	}
	if len(data) < len(magic) {
		return false
	}
	return bytes.Equal(andBytes(data, mask), andBytes(magic, mask))
}

// TestTableMatchesBusybox checks the magic of every row against real
// Debian busybox-static executables extracted to
// $POLYARCH_FIXTURE_ROOTFS/<debarch>/busybox.
func TestTableMatchesBusybox(t *testing.T) {
	root := os.Getenv("POLYARCH_FIXTURE_ROOTFS")
	if root == "" {
		t.Skip("POLYARCH_FIXTURE_ROOTFS is unset: set it to the fixture rootfs directory " +
			"(${POLYARCH_FIXTURE_CACHE:-$HOME/.cache/polyarch-fixtures}/rootfs) to check magic against real busybox binaries")
	}
	for _, f := range busyboxFixtures {
		e, ok := Lookup(plat(f.platform))
		if !ok {
			t.Fatalf("Lookup(%s) failed", f.platform)
		}
		data := readFixture(t, root, f.debarch)
		if data == nil {
			continue
		}
		if !matches(t, e, data) {
			t.Errorf("%s busybox (%s) does not match %s magic/mask", f.debarch, f.platform, HandlerName(e))
		}
		for _, other := range Table() {
			if other.QEMU != e.QEMU && matches(t, other, data) {
				t.Errorf("%s busybox also matches %s", f.debarch, HandlerName(other))
			}
		}
	}
}

// readFixture returns the first 64 bytes of <root>/<debarch>/busybox (or
// bin/busybox), failing t if neither exists.
func readFixture(t *testing.T, root, debarch string) []byte {
	t.Helper()
	for _, rel := range []string{"busybox", "bin/busybox"} {
		f, err := os.Open(filepath.Join(root, debarch, rel))
		if err != nil {
			continue
		}
		defer f.Close()
		buf := make([]byte, 64)
		n, _ := f.Read(buf)
		return buf[:n]
	}
	t.Errorf("fixture %s missing: no busybox or bin/busybox under %s: run the fixture script",
		debarch, filepath.Join(root, debarch))
	return nil
}
