package emulation

import "testing"

func TestRegisteredByPolyarch(t *testing.T) {
	arm64 := lookup("linux/arm64")
	for _, tt := range []struct {
		name, interpreter, flags string
		want                     bool
	}{
		{"install", "/usr/bin/qemu-aarch64-static", "PF", true},
		{"install --qemu-dir", "/opt/qemu/qemu-aarch64", "PF", true},
		{"install, libexec only", "/usr/libexec/qemu-binfmt/aarch64-binfmt-P", "PF", true},
		{"flags in another order", "/usr/bin/qemu-aarch64-static", "FP", true},
		{"debian systemd-binfmt", "/usr/libexec/qemu-binfmt/aarch64-binfmt-P", "POF", false},
		{"fedora", "/usr/bin/qemu-aarch64-static", "F", false},
		{"tonistiigi/binfmt", "/usr/bin/qemu-aarch64", "POCF", false},
		{"another target's interpreter", "/usr/bin/qemu-arm-static", "PF", false},
		{"not qemu", "/usr/bin/box64", "PF", false},
	} {
		h := Handler{Name: HandlerName(arm64), Interpreter: tt.interpreter, Flags: tt.flags, Magic: arm64.Magic, Mask: arm64.Mask}
		if got := registeredByPolyarch(h, arm64, DefaultFlags); got != tt.want {
			t.Errorf("%s: registeredByPolyarch(%s, %q) = %v, want %v", tt.name, tt.interpreter, tt.flags, got, tt.want)
		}
	}
}
