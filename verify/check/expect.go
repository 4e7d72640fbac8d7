package check

import (
	"fmt"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
)

// Expectation is what the ELF files of one platform's image must say.
type Expectation struct {
	ident emulation.ELFIdent
	// float is the arm float ABI required when a header states one:
	// "hard" (arm/v7), "soft" (arm/v5 and older), "" for either (arm/v6,
	// whose images come in both).
	float string
}

// armFloatABI maps arm variants to the float ABI their images use: Debian
// armhf and Docker's arm32v7 are hard-float, armel and arm32v5 soft-float.
var armFloatABI = map[string]string{"v7": "hard", "v8": "hard", "v5": "soft", "v4": "soft"}

// Expect returns the Expectation for p, false when polyarch does not know
// the ELF identity of p's programs.
func Expect(p specs.Platform) (Expectation, bool) {
	n := emulation.NormalizePlatform(p)
	id, ok := emulation.ELFIdentOf(n)
	if !ok {
		return Expectation{}, false
	}
	e := Expectation{ident: id}
	if n.Architecture == "arm" {
		e.float = armFloatABI[n.Variant]
	}
	return e, true
}

// Mismatch returns why h does not fit e, or "" when it does.
func (e Expectation) Mismatch(h ELFHeader) string {
	got := emulation.ELFIdent{Class: h.Class, Data: h.Data, Machine: h.Machine}
	if got != e.ident {
		return fmt.Sprintf("%s is not %s", Describe(h), describeIdent(e.ident))
	}
	if f := h.armFloat(); f != "" && e.float != "" && f != e.float {
		return fmt.Sprintf("%s uses the %s-float ABI, the platform's programs %s-float", Describe(h), f, e.float)
	}
	return ""
}

// Describe names h and the platform its machine belongs to, e.g.
// "EM_X86_64 64-bit LSB (linux/amd64)".
func Describe(h ELFHeader) string {
	if p, ok := platformOf(emulation.ELFIdent{Class: h.Class, Data: h.Data, Machine: h.Machine}); ok {
		return fmt.Sprintf("%s (%s)", h, p)
	}
	return h.String()
}

// describeIdent names an expected identity like Describe.
func describeIdent(id emulation.ELFIdent) string {
	return Describe(ELFHeader{Class: id.Class, Data: id.Data, Machine: id.Machine})
}

// platformOf returns the OS/ARCH whose programs have identity id, without
// a variant; false when no platform of the emulator table has it.
func platformOf(id emulation.ELFIdent) (string, bool) {
	for _, p := range emulation.TablePlatforms() {
		if got, ok := emulation.ELFIdentOf(p); ok && got == id {
			return p.OS + "/" + p.Architecture, true
		}
	}
	return "", false
}
