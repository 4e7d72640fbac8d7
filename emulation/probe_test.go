package emulation

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// writeProbe writes e's probe to a temporary file and returns its path.
func writeProbe(t *testing.T, e Emulator) string {
	t.Helper()
	bin, err := probeELF(e)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "probe-"+e.QEMU)
	if err := os.WriteFile(path, bin, 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestProbeELFHeaders checks every probe's ELF header against an
// independent list and against its table row's magic and mask.
func TestProbeELFHeaders(t *testing.T) {
	want := map[string]struct {
		class   elf.Class
		order   binary.ByteOrder
		machine elf.Machine
	}{
		"x86_64":      {elf.ELFCLASS64, binary.LittleEndian, elf.EM_X86_64},
		"i386":        {elf.ELFCLASS32, binary.LittleEndian, elf.EM_386},
		"aarch64":     {elf.ELFCLASS64, binary.LittleEndian, elf.EM_AARCH64},
		"arm":         {elf.ELFCLASS32, binary.LittleEndian, elf.EM_ARM},
		"ppc64le":     {elf.ELFCLASS64, binary.LittleEndian, elf.EM_PPC64},
		"s390x":       {elf.ELFCLASS64, binary.BigEndian, elf.EM_S390},
		"riscv64":     {elf.ELFCLASS64, binary.LittleEndian, elf.EM_RISCV},
		"mips64el":    {elf.ELFCLASS64, binary.LittleEndian, elf.EM_MIPS},
		"mips64":      {elf.ELFCLASS64, binary.BigEndian, elf.EM_MIPS},
		"loongarch64": {elf.ELFCLASS64, binary.LittleEndian, elf.EM_LOONGARCH},
	}
	for _, e := range Table() {
		t.Run(FormatPlatform(e.Platform), func(t *testing.T) {
			w, ok := want[e.QEMU]
			if !ok {
				t.Fatalf("no expected header for qemu target %s", e.QEMU)
			}
			path := writeProbe(t, e)
			f, err := elf.Open(path)
			if err != nil {
				t.Fatalf("parsing probe: %v", err)
			}
			defer f.Close()
			if f.Class != w.class || f.ByteOrder != w.order || f.Machine != w.machine || f.Type != elf.ET_EXEC {
				t.Errorf("probe header = %v %v %v %v, want %v %v %v ET_EXEC",
					f.Class, f.ByteOrder, f.Machine, f.Type, w.class, w.order, w.machine)
			}
			if err := checkStatic(path); err != nil {
				t.Errorf("probe is not static: %v", err)
			}
			checkMagic(t, e, path)
		})
	}
}

// checkMagic checks that the file at path matches e's magic and mask and
// no other qemu target's.
func checkMagic(t *testing.T, e Emulator, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !matches(t, e, data) {
		t.Errorf("probe does not match %s magic/mask", HandlerName(e))
	}
	for _, other := range Table() {
		if other.QEMU != e.QEMU && matches(t, other, data) {
			t.Errorf("probe also matches %s", HandlerName(other))
		}
	}
}

// TestProbeRunsUnderQEMU runs every probe directly with Debian's
// /usr/bin/qemu-<target>-static, without binfmt_misc.
func TestProbeRunsUnderQEMU(t *testing.T) {
	for _, e := range Table() {
		t.Run(FormatPlatform(e.Platform), func(t *testing.T) {
			qemu := requireQEMU(t, e.QEMU)
			out, err := exec.Command(qemu, writeProbe(t, e)).Output()
			if err != nil || string(out) != probeMessage(e) {
				t.Fatalf("%s probe: output %q, err %v; want %q and exit 0", qemu, out, err, probeMessage(e))
			}
		})
	}
}

// TestProbeRunsNatively executes the probes of native platforms directly.
func TestProbeRunsNatively(t *testing.T) {
	ran := 0
	for _, e := range Table() {
		if !Native(e.Platform) {
			continue
		}
		ran++
		out, err := exec.Command(writeProbe(t, e)).Output()
		if err != nil || string(out) != probeMessage(e) {
			t.Errorf("native %s probe: output %q, err %v; want %q "+
				"(for 386 on amd64 the kernel needs IA32 emulation)", FormatPlatform(e.Platform), out, err, probeMessage(e))
		}
	}
	if ran == 0 {
		t.Skipf("no table row is native on %s", runtime.GOARCH)
	}
}

func TestProbeWithoutExecution(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		in      string
		wantErr string // "" means nil
	}{
		{"linux/" + runtime.GOARCH, ""},
		{"linux/sparc64", "supported platforms are linux/amd64, linux/386"},
		{"windows/arm64", "no emulator"},
	}
	for _, tt := range tests {
		err := Probe(ctx, plat(tt.in))
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("Probe(%s) = %v, want nil", tt.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Probe(%s) = %v, want an error containing %q", tt.in, err, tt.wantErr)
		}
	}
}

// TestRunProbeErrors checks the hints for programs that fail in ways a
// broken handler does.
func TestRunProbeErrors(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o700); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path string
		wantErr    []string
	}{
		{"exec format error", script("garbage", "\x7fELF garbage that is no executable"),
			[]string{"exec format error", "polyarch emulation install linux/arm64", "private mode"}},
		{"wrong output", script("wrong", "#!/bin/sh\necho hello\n"),
			[]string{"printed \"hello\\n\"", "not an emulator"}},
		{"exit status", script("exit3", "#!/bin/sh\necho oops >&2\nexit 3\n"),
			[]string{"exit status 3", "oops", "broken"}},
		{"missing interpreter", script("nointerp", "#!/nonexistent/interp\n"),
			[]string{"interpreter was not found", "flag F"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := runProbe(context.Background(), "linux/arm64", tt.path, "polyarch probe aarch64\n")
			if err == nil {
				t.Fatal("runProbe succeeded, want an error")
			}
			if !errors.Is(err, ErrNoHandler) {
				t.Errorf("error %q does not wrap ErrNoHandler", err)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

func TestProbeELFUnknownTarget(t *testing.T) {
	_, err := probeELF(Emulator{QEMU: "sparc64"})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(`"sparc64"`)) {
		t.Errorf("probeELF(sparc64) = %v, want an error naming the target", err)
	}
}

// TestProbeRunsOnBaselineCPUs runs probes on the oldest CPUs their
// platforms name, so arm/v5 and arm/v6 probes use no ARMv7 instructions.
func TestProbeRunsOnBaselineCPUs(t *testing.T) {
	tests := []struct{ platform, cpu string }{
		{"linux/arm/v5", "arm926"},
		{"linux/arm/v6", "arm1136"},
		{"linux/386", "486"},
		{"linux/amd64", "qemu64"},
		{"linux/ppc64le", "power8"},
		{"linux/s390x", "z900"},
		{"linux/mips64le", "5KEf"},
		{"linux/riscv64", "rv64,c=false"},
	}
	for _, tt := range tests {
		e := lookup(tt.platform)
		qemu := requireQEMU(t, e.QEMU)
		out, err := exec.Command(qemu, "-cpu", tt.cpu, writeProbe(t, e)).CombinedOutput()
		if err != nil || string(out) != probeMessage(e) {
			t.Errorf("%s probe on -cpu %s: output %q, err %v", tt.platform, tt.cpu, out, err)
		}
	}
}
