package emulation

import (
	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Emulator is one row of the emulator table: a platform, the qemu target
// that runs it, and the binfmt_misc magic and mask that recognise its ELF
// executables.
type Emulator struct {
	// Platform is the OCI platform, normalised as containerd/platforms
	// does (OS "linux"; arm64 has Variant "", arm always has one).
	Platform specs.Platform `json:"platform"`
	// QEMU is the qemu target name, e.g. "aarch64"; the interpreter is
	// qemu-<QEMU>-static.
	QEMU string `json:"qemu"`
	// Magic is the byte pattern at offset 0, \x-escaped as in a
	// binfmt_misc register string.
	Magic string `json:"magic"`
	// Mask selects the bits of Magic that must match, \x-escaped.
	Mask string `json:"mask"`
}

// Masks shared by several rows of QEMU's script: compare the ELF
// identification except EI_OSABI, accept ET_EXEC and ET_DYN, compare
// e_machine. maskX86 also ignores the low bit of EI_DATA and EI_VERSION.
const (
	maskLE  = `\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff`
	maskBE  = `\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff`
	maskX86 = `\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff`
)

// table is taken from QEMU's scripts/qemu-binfmt-conf.sh (upstream master,
// https://gitlab.com/qemu-project/qemu/-/blob/master/scripts/qemu-binfmt-conf.sh):
// the <cpu>_magic and <cpu>_mask variables, unchanged.
var table = []Emulator{
	row("amd64", "", "x86_64", `\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00`, maskX86),
	row("386", "", "i386", `\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00`, maskX86),
	row("arm64", "", "aarch64", `\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00`, maskLE),
	row("arm", "v7", "arm", armMagic, maskLE),
	row("arm", "v6", "arm", armMagic, maskLE),
	row("arm", "v5", "arm", armMagic, maskLE),
	row("ppc64le", "", "ppc64le", `\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x15\x00`,
		`\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\x00`),
	row("s390x", "", "s390x", `\x7fELF\x02\x02\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x16`, maskBE),
	row("riscv64", "", "riscv64", `\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xf3\x00`, maskLE),
	row("mips64le", "", "mips64el", `\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x08\x00`,
		`\xff\xff\xff\xff\xff\xff\xff\x00\x00\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff`),
	row("mips64", "", "mips64", `\x7fELF\x02\x02\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x08`,
		`\xff\xff\xff\xff\xff\xff\xff\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff`),
	row("loong64", "", "loongarch64", `\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x02\x01`,
		`\xff\xff\xff\xff\xff\xff\xff\xfc\x00\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff`),
}

const armMagic = `\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00`

func row(arch, variant, qemu, magic, mask string) Emulator {
	return Emulator{
		Platform: specs.Platform{OS: "linux", Architecture: arch, Variant: variant},
		QEMU:     qemu,
		Magic:    magic,
		Mask:     mask,
	}
}

// Table returns a copy of the emulator table. The rows for arm/v7, arm/v6
// and arm/v5 share one qemu-arm handler.
func Table() []Emulator {
	return append([]Emulator(nil), table...)
}

// Lookup returns the emulator for p, after normalising p. A variant without
// a row of its own (arm/v8, amd64/v3, arm64/v9) gets its architecture's
// handler, with Platform set to the normalised p; so every arm variant maps
// to the qemu-arm handler.
func Lookup(p specs.Platform) (Emulator, bool) {
	n := NormalizePlatform(p)
	if n.OS != "linux" {
		return Emulator{}, false
	}
	for _, e := range table {
		if e.Platform.Architecture == n.Architecture && e.Platform.Variant == n.Variant {
			return e, true
		}
	}
	for _, e := range table {
		if e.Platform.Architecture == n.Architecture {
			e.Platform = specs.Platform{OS: n.OS, Architecture: n.Architecture, Variant: n.Variant}
			return e, true
		}
	}
	return Emulator{}, false
}

// HandlerName returns the binfmt_misc entry name for e, "qemu-<QEMU>": the
// names Debian's /usr/lib/binfmt.d uses, so existing handlers are
// recognised.
func HandlerName(e Emulator) string {
	return "qemu-" + e.QEMU
}
