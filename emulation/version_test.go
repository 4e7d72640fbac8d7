package emulation

import "testing"

func TestParseQEMUVersion(t *testing.T) {
	for _, tc := range []struct {
		out, want string
		ok        bool
	}{
		{out: "qemu-aarch64 version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022\n", want: "7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)", ok: true},
		{out: "qemu-riscv64 version 8.2.0\n", want: "8.2.0", ok: true},
		{out: "usage: qemu-aarch64 [options]\n"},
		{out: ""},
	} {
		got, err := parseQEMUVersion([]byte(tc.out))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseQEMUVersion(%q) = %q, %v; want %q (ok %v)", tc.out, got, err, tc.want, tc.ok)
		}
	}
}

func TestInterpreterVersionOfHostQEMU(t *testing.T) {
	p, err := ParsePlatform("linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	e, ok := Lookup(p)
	if !ok {
		t.Fatal("no table entry for linux/arm64")
	}
	path, err := FindInterpreter(e, "")
	if err != nil {
		t.Skipf("qemu-user-static for arm64 is not installed: %v", err)
	}
	v, err := InterpreterVersion(t.Context(), path)
	if err != nil || v == "" {
		t.Fatalf("InterpreterVersion(%s) = %q, %v", path, v, err)
	}
}
