package emulation

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
)

func TestParseEntry(t *testing.T) {
	tests := []struct {
		name, text string
		want       Handler
		wantErr    string
	}{
		{name: "qemu-aarch64", text: "enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: POF\noffset 0\n" +
			"magic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n",
			want: Handler{Name: "qemu-aarch64", Interpreter: "/usr/bin/qemu-aarch64-static", Flags: "POF", Enabled: true,
				Magic: `\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00`,
				Mask:  `\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff`}},
		{name: "nomask", text: "disabled\ninterpreter /bin/true\nflags: \noffset 2\nmagic 4142\n",
			want: Handler{Name: "nomask", Interpreter: "/bin/true", Offset: 2, Magic: `\x41\x42`}},
		{name: "python3.11", text: "enabled\ninterpreter /usr/bin/python3.11\nflags: \nextension .pyc\n",
			want: Handler{Name: "python3.11", Interpreter: "/usr/bin/python3.11", Enabled: true, Extension: "pyc"}},
		{name: "bad", text: "maybe\n", wantErr: "neither enabled nor disabled"},
		{name: "badhex", text: "enabled\nmagic 7g\n", wantErr: "magic 7g"},
		{name: "badoffset", text: "enabled\noffset x\n", wantErr: "offset x"},
	}
	for _, tt := range tests {
		got, err := parseEntry(tt.name, tt.text)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseEntry(%s) error = %v, want one containing %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseEntry(%s) = %+v, %v\nwant %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestRegisterString(t *testing.T) {
	arm64, _ := Lookup(plat("linux/arm64"))
	tests := []struct {
		name    string
		h       Handler
		want    string
		wantErr string
	}{
		{"qemu", Handler{Name: "qemu-aarch64", Interpreter: "/usr/bin/qemu-aarch64-static", Flags: "PF",
			Magic: arm64.Magic, Mask: arm64.Mask},
			":qemu-aarch64:M::" + arm64.Magic + ":" + arm64.Mask + ":/usr/bin/qemu-aarch64-static:PF", ""},
		{"offset", Handler{Name: "x", Interpreter: "/bin/true", Magic: `\x41`, Offset: 3}, ":x:M:3:\\x41::/bin/true:", ""},
		{"extension", Handler{Name: "py", Interpreter: "/usr/bin/python3", Extension: "pyc", Magic: "ignored"},
			":py:E::pyc::/usr/bin/python3:", ""},
		{"credentials", Handler{Name: "c", Interpreter: "/x", Magic: "A", Flags: "POCF"}, ":c:M::A::/x:POCF", ""},
		{"empty name", Handler{Interpreter: "/x", Magic: "A"}, "", "invalid name"},
		{"register", Handler{Name: "register", Interpreter: "/x", Magic: "A"}, "", "invalid name"},
		{"slash", Handler{Name: "a/b", Interpreter: "/x", Magic: "A"}, "", "invalid name"},
		{"relative", Handler{Name: "a", Interpreter: "qemu", Magic: "A"}, "", "absolute path"},
		{"flags", Handler{Name: "a", Interpreter: "/x", Magic: "A", Flags: "PX"}, "", "valid flags are P, O, C and F"},
		{"colon", Handler{Name: "a", Interpreter: "/x", Magic: "A:B"}, "", `\x3a`},
		{"no magic", Handler{Name: "a", Interpreter: "/x"}, "", "no magic"},
		{"too long", Handler{Name: "a", Interpreter: "/" + strings.Repeat("x", 2000), Magic: "A"}, "", "at most 1920"},
	}
	for _, tt := range tests {
		got, err := registerString(tt.h)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: registerString error = %v, want one containing %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: registerString = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestUnescapeBytes(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{`\x7fELF\x02`, "\x7fELF\x02", false},
		{`a\\b`, `a\b`, false},
		{escapeBytes([]byte{0, 0xff, ':'}), "\x00\xff:", false},
		{`\x7`, "", true},
		{`\xzz`, "", true},
		{`\n`, "", true},
	}
	for _, tt := range tests {
		got, err := unescapeBytes(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && string(got) != tt.want) {
			t.Errorf("unescapeBytes(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestNotMounted uses an empty directory: nothing is written anywhere.
func TestNotMounted(t *testing.T) {
	dir := t.TempDir()
	arm64, _ := Lookup(plat("linux/arm64"))
	tests := []struct {
		name    string
		run     func() error
		wantErr []string
	}{
		{"ReadHandlers", func() error { _, err := ReadHandlers(dir); return err }, []string{"not mounted", "mount -t binfmt_misc"}},
		{"ReadHandler", func() error { _, err := ReadHandler(dir, "qemu-aarch64"); return err }, []string{"not mounted"}},
		{"Register", func() error { return Register(dir, arm64, "/usr/bin/qemu-aarch64-static", DefaultFlags) },
			[]string{"registering binfmt_misc handler qemu-aarch64", "not mounted", "private mode"}},
		{"Unregister", func() error { return Unregister(dir, "qemu-aarch64") }, []string{"not mounted"}},
		{"ReadHandlers missing dir", func() error { _, err := ReadHandlers(dir + "/nonexistent"); return err },
			[]string{"no such file"}},
	}
	for _, tt := range tests {
		err := tt.run()
		if err == nil {
			t.Errorf("%s on an empty directory succeeded", tt.name)
			continue
		}
		for _, s := range tt.wantErr {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s error %q lacks %q", tt.name, err, s)
			}
		}
		if tt.name != "ReadHandlers missing dir" && !errors.Is(err, ErrNotMounted) {
			t.Errorf("%s error %q does not wrap ErrNotMounted", tt.name, err)
		}
	}
}

func TestKernelAtLeast(t *testing.T) {
	tests := []struct {
		release string
		want    bool
	}{
		{"6.18.44-fc-v657", true},
		{"6.7.0", true},
		{"6.7-rc1", true},
		{"6.6.30-amd64", false},
		{"5.15.0-105-generic", false},
		{"7.0", true},
		{"garbage", false},
	}
	for _, tt := range tests {
		if got := kernelAtLeast(tt.release, 6, 7); got != tt.want {
			t.Errorf("kernelAtLeast(%q, 6, 7) = %v, want %v", tt.release, got, tt.want)
		}
	}
}

func TestReregisterError(t *testing.T) {
	inner := errors.New("registering binfmt_misc handler x: boom")
	var err error = &ReregisterError{Mount: "/m", Errs: []error{inner}}
	if !errors.Is(err, inner) || !strings.Contains(err.Error(), "re-registering handlers in the private binfmt_misc at /m: 1 failed") {
		t.Errorf("ReregisterError = %q, want it to wrap and name its parts", err)
	}
}

func TestErrnoHints(t *testing.T) {
	h := Handler{Name: "qemu-aarch64", Interpreter: "/usr/bin/qemu-aarch64-static", Magic: "A", Flags: "PF"}
	wrap := func(e syscall.Errno) error { return fmt.Errorf("write register: %w", e) }
	tests := []struct {
		name   string
		err    error
		is     error
		substr string
	}{
		{"open ENOENT", openHint("/m", wrap(syscall.ENOENT)), ErrNotMounted, "mount -t binfmt_misc binfmt_misc /m"},
		{"open EACCES", openHint("/m", wrap(syscall.EACCES)), syscall.EACCES, "not permitted in this namespace"},
		{"open EPERM", openHint("/m", wrap(syscall.EPERM)), syscall.EPERM, "private mode"},
		{"write EEXIST", writeHint(h, wrap(syscall.EEXIST)), ErrExists, "qemu-aarch64 is already registered"},
		{"write ENOENT", writeHint(h, wrap(syscall.ENOENT)), syscall.ENOENT, "interpreter /usr/bin/qemu-aarch64-static not found"},
		{"write EPERM", writeHint(h, wrap(syscall.EPERM)), syscall.EPERM, "not permitted in this namespace"},
		{"write EINVAL", writeHint(h, wrap(syscall.EINVAL)), syscall.EINVAL, "kernel rejected the handler"},
		{"mount EPERM", mountHint(wrap(syscall.EPERM)), syscall.EPERM, "Linux >= 6.7"},
		{"mount ENODEV", mountHint(wrap(syscall.ENODEV)), syscall.ENODEV, "modprobe binfmt_misc"},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.is) || !strings.Contains(tt.err.Error(), tt.substr) {
			t.Errorf("%s: %q, want it to wrap %v and contain %q", tt.name, tt.err, tt.is, tt.substr)
		}
	}
}

func TestPrivateSupportedReason(t *testing.T) {
	ok, why := PrivateSupported()
	if ok != (why == "") {
		t.Errorf("PrivateSupported() = %v, %q: want a reason exactly when unsupported", ok, why)
	}
	t.Logf("PrivateSupported() = %v %s", ok, why)
}
