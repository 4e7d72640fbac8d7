package check

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
)

// HeaderSize is how many bytes of a file ReadELFHeader needs: the size of
// a 64-bit ELF header (a 32-bit one is 52 bytes).
const HeaderSize = 64

// ARM e_flags fields (ELF for the Arm Architecture, "e_flags"): the EABI
// version in the top byte, and from EABI version 5 the float ABI bits.
const (
	armEABIMask    = 0xff000000 // EF_ARM_EABI_MASK
	armEABIv5      = 0x05000000 // EF_ARM_EABI_VER5
	armFloatHard   = 0x00000400 // EF_ARM_ABI_FLOAT_HARD
	armFloatSoft   = 0x00000200 // EF_ARM_ABI_FLOAT_SOFT
	armFloatMask   = armFloatHard | armFloatSoft
	armEABIUnknown = 0 // EF_ARM_EABI_UNKNOWN: old ABI or not stated
)

// ErrNotELF is returned by ReadELFHeader for data that is not an ELF file.
var ErrNotELF = errors.New("not an ELF file")

// ELFHeader is what verification reads from an ELF file header.
type ELFHeader struct {
	Class   elf.Class   `json:"class"`
	Data    elf.Data    `json:"data"`
	Machine elf.Machine `json:"machine"`
	Type    elf.Type    `json:"type"`
	// Flags is e_flags, processor specific (the ARM EABI and float ABI).
	Flags uint32 `json:"flags"`
}

// ReadELFHeader parses the ELF header at the start of b, which needs to
// hold only the header (HeaderSize bytes, 52 for ELFCLASS32). It returns
// ErrNotELF when b does not start with the ELF magic, and an error for a
// header with an invalid class or data encoding or cut short.
func ReadELFHeader(b []byte) (ELFHeader, error) {
	if len(b) < elf.EI_NIDENT || !bytes.HasPrefix(b, []byte(elf.ELFMAG)) {
		return ELFHeader{}, ErrNotELF
	}
	h := ELFHeader{Class: elf.Class(b[elf.EI_CLASS]), Data: elf.Data(b[elf.EI_DATA])}
	var order binary.ByteOrder
	switch h.Data {
	case elf.ELFDATA2LSB:
		order = binary.LittleEndian
	case elf.ELFDATA2MSB:
		order = binary.BigEndian
	default:
		return ELFHeader{}, fmt.Errorf("invalid ELF data encoding %d", b[elf.EI_DATA])
	}
	r := bytes.NewReader(b)
	switch h.Class {
	case elf.ELFCLASS32:
		var hdr elf.Header32
		if err := binary.Read(r, order, &hdr); err != nil {
			return ELFHeader{}, fmt.Errorf("reading 32-bit ELF header: %w", err)
		}
		h.Machine, h.Type, h.Flags = elf.Machine(hdr.Machine), elf.Type(hdr.Type), hdr.Flags
	case elf.ELFCLASS64:
		var hdr elf.Header64
		if err := binary.Read(r, order, &hdr); err != nil {
			return ELFHeader{}, fmt.Errorf("reading 64-bit ELF header: %w", err)
		}
		h.Machine, h.Type, h.Flags = elf.Machine(hdr.Machine), elf.Type(hdr.Type), hdr.Flags
	default:
		return ELFHeader{}, fmt.Errorf("invalid ELF class %d", b[elf.EI_CLASS])
	}
	return h, nil
}

// armFloat returns the float ABI an EABI v5 header states: "hard",
// "soft", or "" when it states none (or is not EABI v5).
func (h ELFHeader) armFloat() string {
	if h.Machine != elf.EM_ARM || h.Flags&armEABIMask != armEABIv5 {
		return ""
	}
	switch h.Flags & armFloatMask {
	case armFloatHard:
		return "hard"
	case armFloatSoft:
		return "soft"
	}
	return ""
}

// String describes h as file(1) would, briefly: "EM_AARCH64 64-bit LSB",
// with the EABI version and float ABI for arm.
func (h ELFHeader) String() string {
	bits := "32-bit"
	if h.Class == elf.ELFCLASS64 {
		bits = "64-bit"
	}
	order := "LSB"
	if h.Data == elf.ELFDATA2MSB {
		order = "MSB"
	}
	s := fmt.Sprintf("%v %s %s", h.Machine, bits, order)
	if h.Machine == elf.EM_ARM {
		if v := h.Flags & armEABIMask; v != armEABIUnknown {
			s += fmt.Sprintf(" EABI%d", v>>24)
		}
		if f := h.armFloat(); f != "" {
			s += " " + f + "-float"
		}
	}
	return s
}
