package emulation

import (
	"debug/elf"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// unescape turns a \x-escaped binfmt_misc string into bytes.
func unescape(t *testing.T, s string) []byte {
	t.Helper()
	var out []byte
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], `\x`) {
			v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				t.Fatalf("bad escape in %q: %v", s, err)
			}
			out = append(out, byte(v))
			i += 4
			continue
		}
		out = append(out, s[i])
		i++
	}
	return out
}

// TestELFIdentOfMatchesMagic ties ELFIdentOf to the binfmt_misc magic of
// every row: class, data encoding and e_machine must agree.
func TestELFIdentOfMatchesMagic(t *testing.T) {
	for _, e := range Table() {
		t.Run(FormatPlatform(e.Platform), func(t *testing.T) {
			id, ok := ELFIdentOf(e.Platform)
			if !ok {
				t.Fatalf("no ELF identity for a table row")
			}
			m := unescape(t, e.Magic)
			var order binary.ByteOrder = binary.LittleEndian
			if elf.Data(m[elf.EI_DATA]) == elf.ELFDATA2MSB {
				order = binary.BigEndian
			}
			got := ELFIdent{Class: elf.Class(m[elf.EI_CLASS]), Data: elf.Data(m[elf.EI_DATA]), Machine: elf.Machine(order.Uint16(m[18:20]))}
			if got != id {
				t.Errorf("magic says %+v, ELFIdentOf says %+v", got, id)
			}
		})
	}
}

// TestELFIdentOfVariants checks variants without a row of their own and
// platforms outside the table.
func TestELFIdentOfVariants(t *testing.T) {
	tests := []struct {
		p    specs.Platform
		want elf.Machine
		ok   bool
	}{
		{specs.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, elf.EM_AARCH64, true},
		{specs.Platform{OS: "linux", Architecture: "arm", Variant: "v8"}, elf.EM_ARM, true},
		{specs.Platform{OS: "linux", Architecture: "amd64", Variant: "v3"}, elf.EM_X86_64, true},
		{specs.Platform{OS: "windows", Architecture: "amd64"}, 0, false},
		{specs.Platform{OS: "linux", Architecture: "wasm"}, 0, false},
	}
	for _, tc := range tests {
		id, ok := ELFIdentOf(tc.p)
		if ok != tc.ok || id.Machine != tc.want {
			t.Errorf("ELFIdentOf(%v) = %v, %v; want %v, %v", tc.p, id.Machine, ok, tc.want, tc.ok)
		}
	}
}
