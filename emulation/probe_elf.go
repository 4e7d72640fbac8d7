package emulation

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// probeBase is where a probe is loaded: 4 MiB, a multiple of every page
// size in use (4 to 64 KiB) and above vm.mmap_min_addr.
const probeBase = 0x400000

// probeArch describes how to build the probe program for one qemu target:
// a static ELF executable with one PT_LOAD segment whose code does
// write(1, msg, n) and exit_group(0).
type probeArch struct {
	class   elf.Class
	order   byteOrder
	machine elf.Machine
	flags   uint32
	// code returns the machine code for an entry point at pc printing the
	// n bytes at msg. Its length must not depend on the arguments.
	code func(pc, msg uint64, n int) []byte
}

// byteOrder both reads and appends, as binary.LittleEndian and BigEndian do.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

var (
	le byteOrder = binary.LittleEndian
	be byteOrder = binary.BigEndian
)

// probeArchs is keyed by Emulator.QEMU. Syscall numbers are Linux's for each
// ABI (write, exit_group).
var probeArchs = map[string]probeArch{
	"x86_64":      {elf.ELFCLASS64, le, elf.EM_X86_64, 0, codeX8664},
	"i386":        {elf.ELFCLASS32, le, elf.EM_386, 0, codeI386},
	"aarch64":     {elf.ELFCLASS64, le, elf.EM_AARCH64, 0, codeAArch64},
	"arm":         {elf.ELFCLASS32, le, elf.EM_ARM, 0x05000000, codeARM}, // EABI version 5
	"ppc64le":     {elf.ELFCLASS64, le, elf.EM_PPC64, 2, codePPC64},      // ELFv2: entry is code, not a descriptor
	"s390x":       {elf.ELFCLASS64, be, elf.EM_S390, 0, codeS390X},
	"riscv64":     {elf.ELFCLASS64, le, elf.EM_RISCV, 0, codeRISCV64},
	"mips64el":    {elf.ELFCLASS64, le, elf.EM_MIPS, 0x80000000, codeMIPS64(le)}, // mips64r2, n64
	"mips64":      {elf.ELFCLASS64, be, elf.EM_MIPS, 0x80000000, codeMIPS64(be)},
	"loongarch64": {elf.ELFCLASS64, le, elf.EM_LOONGARCH, 0x43, codeLoong64}, // LP64D, object ABI v1
}

// probeMessage is what the probe for e prints on success.
func probeMessage(e Emulator) string {
	return "polyarch probe " + e.QEMU + "\n"
}

// probeELF returns the probe executable for e.
func probeELF(e Emulator) ([]byte, error) {
	a, ok := probeArchs[e.QEMU]
	if !ok {
		return nil, fmt.Errorf("building probe for %s: no probe program for qemu target %q", FormatPlatform(e.Platform), e.QEMU)
	}
	msg := probeMessage(e)
	codeOff := uint64(headerSize(a.class))
	msgOff := alignUp(codeOff+uint64(len(a.code(0, 0, len(msg)))), 8)
	code := a.code(probeBase+codeOff, probeBase+msgOff, len(msg))
	size := msgOff + uint64(len(msg))

	var buf bytes.Buffer
	if err := writeHeaders(&buf, a, probeBase+codeOff, size); err != nil {
		return nil, fmt.Errorf("building probe for %s: %w", FormatPlatform(e.Platform), err)
	}
	buf.Write(code)
	buf.Write(make([]byte, msgOff-uint64(buf.Len())))
	buf.WriteString(msg)
	return buf.Bytes(), nil
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// headerSize is the size of the ELF header plus one program header.
func headerSize(c elf.Class) int {
	if c == elf.ELFCLASS64 {
		return 64 + 56
	}
	return 52 + 32
}

func ident(a probeArch) [elf.EI_NIDENT]byte {
	var id [elf.EI_NIDENT]byte
	copy(id[:], elf.ELFMAG)
	id[elf.EI_CLASS] = byte(a.class)
	id[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	if a.order == be {
		id[elf.EI_DATA] = byte(elf.ELFDATA2MSB)
	}
	id[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	return id
}

// writeHeaders writes the ELF header and a single read+execute PT_LOAD
// program header mapping the whole file (size bytes) at probeBase.
func writeHeaders(buf *bytes.Buffer, a probeArch, entry, size uint64) error {
	var hdr, prog any
	if a.class == elf.ELFCLASS64 {
		hdr = elf.Header64{Ident: ident(a), Type: uint16(elf.ET_EXEC), Machine: uint16(a.machine),
			Version: uint32(elf.EV_CURRENT), Entry: entry, Phoff: 64, Flags: a.flags,
			Ehsize: 64, Phentsize: 56, Phnum: 1, Shentsize: 64}
		prog = elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
			Vaddr: probeBase, Paddr: probeBase, Filesz: size, Memsz: size, Align: 0x10000}
	} else {
		hdr = elf.Header32{Ident: ident(a), Type: uint16(elf.ET_EXEC), Machine: uint16(a.machine),
			Version: uint32(elf.EV_CURRENT), Entry: uint32(entry), Phoff: 52, Flags: a.flags,
			Ehsize: 52, Phentsize: 32, Phnum: 1, Shentsize: 40}
		prog = elf.Prog32{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
			Vaddr: probeBase, Paddr: probeBase, Filesz: uint32(size), Memsz: uint32(size), Align: 0x10000}
	}
	if err := binary.Write(buf, a.order, hdr); err != nil {
		return err
	}
	return binary.Write(buf, a.order, prog)
}

// words encodes fixed-size instruction words in the target's byte order.
func words(order byteOrder, ws ...uint32) []byte {
	out := make([]byte, 0, 4*len(ws))
	for _, w := range ws {
		out = order.AppendUint32(out, w)
	}
	return out
}
