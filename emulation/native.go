package emulation

import (
	"context"
	"debug/elf"
	"runtime"
	"sync"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Native reports whether this kernel runs p's programs itself, without
// emulation. The host's own architecture always does. A compatible one
// (386 on amd64, 32-bit arm on arm64; see compatArch) does only if its
// probe runs natively, with no binfmt_misc handler involved (see
// nativeProbe): kernels built or booted without IA32 emulation (common
// on cloud VMs), and arm64 CPUs without AArch32, run neither, and then
// the table's emulator serves the platform like any foreign one. That
// probe runs once per process; its answer is cached.
func Native(p specs.Platform) bool {
	n := NormalizePlatform(p)
	switch {
	case n.OS != runtime.GOOS:
		return false
	case n.Architecture == runtime.GOARCH:
		return true
	case !compatArch(runtime.GOARCH, n.Architecture):
		return false
	}
	e, ok := Lookup(n)
	return ok && nativeProbe(e) == nil
}

// compatArch reports whether a kernel of architecture host may run arch's
// programs itself: 386 on amd64 (IA32 emulation), arm on arm64 (AArch32).
// Whether this kernel and CPU do is for nativeProbe to find out.
func compatArch(host, arch string) bool {
	return host == "amd64" && arch == "386" || host == "arm64" && arch == "arm"
}

// nativeProbes caches nativeProbe's answer per qemu target.
var nativeProbes sync.Map // string -> func() error

// nativeProbe executes e's probe program so that no binfmt_misc handler
// can serve it, and returns nil if it ran and printed what it should: the
// kernel runs e's programs natively. The program differs from Probe's in
// one ELF identification padding byte, which the kernel's ELF loader
// ignores but every qemu handler's mask compares (QEMU's and Debian's
// masks require the padding to be zero), because handlers take precedence
// over the native loader. The answer is computed once per process and
// qemu target, without the caller's context (it is a fact about the
// kernel, bounded by ProbeTimeout), and cached.
func nativeProbe(e Emulator) error {
	once, _ := nativeProbes.LoadOrStore(e.QEMU, sync.OnceValue(func() error {
		bin, err := nativeProbeELF(e)
		if err != nil {
			return err
		}
		return runProbeELF(context.Background(), e, bin)
	}))
	return once.(func() error)()
}

// nativeMark is written to the last padding byte of the native probe's
// ELF identification.
const nativeMark = 'N'

// nativeProbeELF returns e's probe executable marked so that no qemu
// handler's magic matches it (see nativeProbe).
func nativeProbeELF(e Emulator) ([]byte, error) {
	bin, err := probeELF(e)
	if err != nil {
		return nil, err
	}
	bin[elf.EI_NIDENT-1] = nativeMark
	return bin, nil
}
