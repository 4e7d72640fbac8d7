package emulation

import (
	"debug/elf"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// ELFIdent is what the ELF header of a program for a platform says: its
// class (32 or 64 bits), data encoding (byte order) and machine.
type ELFIdent struct {
	Class   elf.Class
	Data    elf.Data
	Machine elf.Machine
}

// ELFIdentOf returns the ELF identity of programs for p, from the same
// per-target data the emulation probes are built from; false when p has no
// row in the emulator table (see Lookup).
func ELFIdentOf(p specs.Platform) (ELFIdent, bool) {
	e, ok := Lookup(p)
	if !ok {
		return ELFIdent{}, false
	}
	a, ok := probeArchs[e.QEMU]
	if !ok {
		return ELFIdent{}, false
	}
	data := elf.ELFDATA2LSB
	if a.order == be {
		data = elf.ELFDATA2MSB
	}
	return ELFIdent{Class: a.class, Data: data, Machine: a.machine}, true
}
