package emulation

import (
	"strings"
	"testing"
)

func TestUnfitReason(t *testing.T) {
	arm64, ppc := lookup("linux/arm64"), lookup("linux/ppc64le")
	debianMask := `\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff`
	le64 := `\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00`
	for _, tt := range []struct {
		name string
		h    Handler
		want string // "" to copy the handler, else part of the reason
	}{
		{"debian arm64, fit", Handler{Name: "qemu-aarch64", Interpreter: "/bin/sh", Flags: "POF", Magic: arm64.Magic, Mask: debianMask}, ""},
		{"table name without F", Handler{Name: "qemu-ppc64le", Interpreter: "/bin/sh", Flags: "P", Magic: ppc.Magic, Mask: ppc.Mask}, `serves linux/ppc64le with flags "P"`},
		{"table name, extension", Handler{Name: "qemu-aarch64", Interpreter: "/bin/sh", Extension: "x"}, `flags ""`},
		{"other name, same magic", Handler{Name: "arm64-old", Interpreter: "/bin/sh", Flags: "F", Magic: arm64.Magic, Mask: debianMask}, "serves linux/arm64"},
		{"interpreter gone", Handler{Name: "qemu-ppc64le", Interpreter: "/nonexistent/qemu-ppc64le-static", Flags: "PF", Magic: ppc.Magic, Mask: ppc.Mask}, "which is gone"},
		{"python", Handler{Name: "python3.11", Interpreter: "/bin/sh", Magic: `\xa7\x0d\x0d\x0a`}, ""},
		{"bare ELF header", Handler{Name: "elf", Interpreter: "/bin/sh", Magic: `\x7fELF`}, ""},
		{"every 64-bit LE machine", Handler{Name: "le64", Interpreter: "/bin/sh", Magic: le64, Mask: strings.Repeat(`\xff`, 18) + `\x00\x00`}, ""},
		{"same magic at an offset", Handler{Name: "off", Interpreter: "/bin/sh", Magic: arm64.Magic, Mask: arm64.Mask, Offset: 1}, ""},
	} {
		got := unfitReason(tt.h)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: unfitReason = %q, want %q", tt.name, got, tt.want)
		}
	}
}
