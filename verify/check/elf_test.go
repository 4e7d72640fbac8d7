package check

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/verify/internal/layertest"
)

// debArches are the fixture's Debian architectures and their platforms.
var debArches = map[string]specs.Platform{
	"amd64":    {OS: "linux", Architecture: "amd64"},
	"arm64":    {OS: "linux", Architecture: "arm64", Variant: "v8"},
	"armhf":    {OS: "linux", Architecture: "arm", Variant: "v7"},
	"armel":    {OS: "linux", Architecture: "arm", Variant: "v5"},
	"i386":     {OS: "linux", Architecture: "386"},
	"ppc64el":  {OS: "linux", Architecture: "ppc64le"},
	"s390x":    {OS: "linux", Architecture: "s390x"},
	"mips64el": {OS: "linux", Architecture: "mips64le"},
}

// TestReadELFHeaderAgreesWithDebugELF reads the first 64 bytes of every
// fixture busybox and compares with debug/elf reading the whole file.
func TestReadELFHeaderAgreesWithDebugELF(t *testing.T) {
	dir := os.Getenv("POLYARCH_FIXTURE_ROOTFS")
	for deb := range debArches {
		t.Run(deb, func(t *testing.T) {
			layertest.Busybox(t, deb)
			f, err := elf.Open(filepath.Join(dir, deb, "busybox"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			h, err := ReadELFHeader(layertest.Busybox(t, deb)[:HeaderSize])
			if err != nil {
				t.Fatal(err)
			}
			want := ELFHeader{Class: f.Class, Data: f.Data, Machine: f.Machine, Type: f.Type}
			h.Flags = 0
			if h != want {
				t.Errorf("ReadELFHeader = %+v, debug/elf says %+v", h, want)
			}
		})
	}
}

// TestReadELFHeaderErrors covers data that is not a readable ELF header.
func TestReadELFHeaderErrors(t *testing.T) {
	amd64 := layertest.Busybox(t, "amd64")
	badClass := bytes.Clone(amd64[:HeaderSize])
	badClass[elf.EI_CLASS] = 7
	badData := bytes.Clone(amd64[:HeaderSize])
	badData[elf.EI_DATA] = 0
	tests := []struct {
		name    string
		in      []byte
		notELF  bool
		errWant string
	}{
		{"empty", nil, true, ""},
		{"script", []byte("#!/bin/sh\necho hello world, this is long enough to hold a header\n"), true, ""},
		{"magic only", []byte("\x7fELF"), true, ""},
		{"cut short", amd64[:40], false, "reading 64-bit ELF header"},
		{"bad class", badClass, false, "invalid ELF class 7"},
		{"bad data", badData, false, "invalid ELF data encoding 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadELFHeader(tc.in)
			if tc.notELF != errors.Is(err, ErrNotELF) || err == nil || !strings.Contains(err.Error(), tc.errWant) {
				t.Errorf("ReadELFHeader: error %v, want ErrNotELF=%v containing %q", err, tc.notELF, tc.errWant)
			}
		})
	}
}

// TestMismatch checks each fixture binary against each fixture platform:
// a binary fits exactly its own platform, except that arm binaries fit the
// arm variants whose float ABI they use (arm/v6 takes either).
func TestMismatch(t *testing.T) {
	fits := map[string][]string{
		"armhf": {"armhf", "arm/v6"}, "armel": {"armel", "arm/v6"},
	}
	plats := map[string]specs.Platform{"arm/v6": {OS: "linux", Architecture: "arm", Variant: "v6"}}
	for deb, p := range debArches {
		plats[deb] = p
	}
	for bin := range debArches {
		h, err := ReadELFHeader(layertest.Busybox(t, bin))
		if err != nil {
			t.Fatal(err)
		}
		ok := map[string]bool{bin: true}
		for _, name := range fits[bin] {
			ok[name] = true
		}
		for name, p := range plats {
			e, known := Expect(p)
			if !known {
				t.Fatalf("no Expectation for %v", p)
			}
			why := e.Mismatch(h)
			if (why == "") != ok[name] {
				t.Errorf("%s busybox under %s: mismatch %q, want fit=%v", bin, name, why, ok[name])
			}
		}
	}
}

// TestMismatchNamesBothMachines checks the reason a user reads.
func TestMismatchNamesBothMachines(t *testing.T) {
	tests := []struct {
		bin  string
		p    specs.Platform
		want string
	}{
		{"arm64", debArches["amd64"], "EM_AARCH64 64-bit LSB (linux/arm64) is not EM_X86_64 64-bit LSB (linux/amd64)"},
		{"amd64", debArches["s390x"], "EM_X86_64 64-bit LSB (linux/amd64) is not EM_S390 64-bit MSB (linux/s390x)"},
		{"armel", debArches["armhf"], "EM_ARM 32-bit LSB EABI5 soft-float (linux/arm) uses the soft-float ABI, the platform's programs hard-float"},
	}
	for _, tc := range tests {
		h, err := ReadELFHeader(layertest.Busybox(t, tc.bin))
		if err != nil {
			t.Fatal(err)
		}
		e, _ := Expect(tc.p)
		if got := e.Mismatch(h); got != tc.want {
			t.Errorf("%s under %v:\n got %q\nwant %q", tc.bin, tc.p, got, tc.want)
		}
	}
}

// FuzzReadELFHeader checks that ReadELFHeader never panics, and that
// whenever it and debug/elf both accept the bytes they agree.
func FuzzReadELFHeader(f *testing.F) {
	for deb := range debArches {
		f.Add(layertest.Busybox(f, deb)[:HeaderSize])
	}
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ReadELFHeader(b)
		if err != nil {
			return
		}
		ef, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			return // debug/elf also needs program and section headers
		}
		if ef.Class != h.Class || ef.Data != h.Data || ef.Machine != h.Machine || ef.Type != h.Type {
			t.Errorf("ReadELFHeader = %+v, debug/elf says %v %v %v %v", h, ef.Class, ef.Data, ef.Machine, ef.Type)
		}
	})
}
